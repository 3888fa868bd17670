/** What a counter participant counts and how its operations move it (see `./counter`). */
export interface CounterSpec {
  /** The kind of entity, e.g. `account`: the key prefix and the noun in reasons. */
  readonly entity: string;
  /** What is counted, for reasons: e.g. `funds` ("insufficient funds on account 'a'"). */
  readonly quantity: string;
  /** The operation's field naming the entity, e.g. `accountId`. */
  readonly idField: string;
  /** The operation's field holding the amount, e.g. `amount`. */
  readonly amountField: string;
  /** The values of the operation's `action` field and what each does, e.g. `{debit: 'take', credit: 'give'}`. */
  readonly actions: Readonly<Record<string, 'take' | 'give'>>;
}
