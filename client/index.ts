/**
 * `tandem/client`: the typed HTTP client of a Tandem deployment's API.
 *
 * ```ts
 * import { TandemClient, TandemConflictError } from 'tandem/client';
 *
 * // The stack's ApiUrl output; `apiAuth=iam` signs with the default AWS credential chain.
 * const tandem = new TandemClient({ url: process.env.TANDEM_API_URL!, auth: 'iam' });
 *
 * await tandem.createAccount({ accountId: 'alice', initialBalance: 100 });
 * const submitted = await tandem.transaction(
 *   {
 *     idempotencyKey: 'order-4711',
 *     operations: [
 *       { participant: 'ledger', action: 'debit', accountId: 'alice', amount: 30 },
 *       { participant: 'inventory', action: 'reserve', sku: 'book-1', quantity: 1 },
 *     ],
 *   },
 *   { wait: 10 }, // hold up to 10 s for the outcome
 * );
 * const view =
 *   submitted.status === 200 ? submitted.view : await tandem.getTransaction(submitted.txId, { wait: 20 });
 * console.log(view.state, view.outcome, submitted.replayed);
 *
 * try {
 *   await tandem.createAccount({ accountId: 'alice', initialBalance: 5 });
 * } catch (error) {
 *   if (!(error instanceof TandemConflictError)) throw error; // 409: alice exists
 * }
 * ```
 *
 * Other auth modes: `{ auth: 'jwt', token: () => currentToken() }` sends a bearer token;
 * `{ auth: 'none' }` is for a local stage. Request types come from the schemas the API validates
 * with, answers are the API's own view types, and failures are typed errors (see errors.ts).
 */
export type { AwsCredentials, AwsCredentialsProvider, TandemAuth } from './auth';
export {
  type AcceptedView,
  type AccountView,
  type CreateAccountInput,
  type CreateItemInput,
  type Health,
  type ItemView,
  type JsonOperation,
  type OpenApiDocument,
  type RawAnswer,
  type Submitted,
  TandemClient,
  type TandemClientOptions,
  type TransactionInput,
  type TransactionView,
  type TransferInput,
  type WaitOptions,
} from './client';
export {
  type FieldIssue,
  type ProblemFields,
  TandemApiError,
  TandemAuthError,
  TandemConflictError,
  TandemNetworkError,
  TandemNotFoundError,
  TandemServerError,
  TandemThrottledError,
  TandemUnprocessableError,
  TandemValidationError,
} from './errors';
