import type * as z from 'zod';
import type { HealthSchema, OpenApiDocument } from '../shared/api/openapi';
import type { ItemView } from '../shared/inventory/items';
import type { AccountView } from '../shared/ledger/accounts';
import type { JsonValue } from '../shared/protocol';
import {
  type CreateAccountRequest,
  type CreateItemRequest,
  IdempotencyKey,
  type TransactionRequest,
  type TransferRequest,
  WAIT_MAX_S,
  WaitSeconds,
} from '../shared/schemas';
import type { AcceptedView, TransactionView } from '../shared/transactions/view';
import { type Authorizer, authorizerOf, type TandemAuth } from './auth';
import { apiErrorOf, TandemApiError, TandemNetworkError } from './errors';

export type { AcceptedView, AccountView, ItemView, OpenApiDocument, TransactionView };

/** `POST /accounts`. */
export type CreateAccountInput = z.input<typeof CreateAccountRequest>;
/** `POST /inventory/items`. */
export type CreateItemInput = z.input<typeof CreateItemRequest>;
/** `POST /transfers`; `idempotencyKey` is sent as the `Idempotency-Key` header. */
export type TransferInput = z.input<typeof TransferRequest>;

/** An operation of a transaction: the participant that runs it, and that participant's fields. */
export interface JsonOperation {
  readonly participant: string;
  readonly [field: string]: JsonValue;
}

/**
 * `POST /transactions`, with operations of type `Op`: by default any participant's, or a type
 * of your own for the participants your deployment has. `idempotencyKey` is sent as the
 * `Idempotency-Key` header.
 */
export type TransactionInput<Op extends { readonly participant: string } = JsonOperation> = Omit<
  z.input<typeof TransactionRequest>,
  'operations'
> & { readonly operations: readonly Op[] };

/** `GET /health`. */
export type Health = z.infer<typeof HealthSchema>;

export interface WaitOptions {
  /**
   * Hold the request up to this many whole seconds (0–20) for the transaction to be terminal
   * (`?wait=N`). Without it the answer comes at once.
   */
  readonly wait?: number;
}

interface SubmittedCommon {
  readonly txId: string;
  /** The transaction's address, `/transactions/{txId}` (the `Location` header). */
  readonly location: string;
  /** True when an earlier request with the same idempotency key created the transaction. */
  readonly replayed: boolean;
}

/** What a submitted transaction answered: 200 once terminal, 202 while it is under way. */
export type Submitted =
  | (SubmittedCommon & { readonly status: 200; readonly view: TransactionView })
  | (SubmittedCommon & { readonly status: 202; readonly view: AcceptedView });

/** An answer as it came, whatever its status (`TandemClient.send`). */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The body parsed as JSON; the text when it is not JSON; undefined when empty. */
  readonly body: unknown;
}

export type TandemClientOptions = TandemAuth & {
  /** The API's base URL: the stack's `ApiUrl` output (a local stage's URL has a path). */
  readonly url: string | URL;
  /** The fetch to send with (default: the global one); for tests and instrumentation. */
  readonly fetch?: typeof fetch;
};

/**
 * The typed client of a Tandem deployment's HTTP API: one method per route. An answer with an
 * error status is thrown as a `TandemApiError` subclass; no answer at all as a `TandemNetworkError`.
 */
export class TandemClient {
  readonly #base: string;
  readonly #authorize: Authorizer;
  readonly #fetch: typeof fetch;

  constructor(options: TandemClientOptions) {
    const base = baseUrlOf(options.url);
    this.#base = base.href.replace(/\/+$/, '');
    this.#authorize = authorizerOf(options, base);
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** `GET /health`. */
  async health(): Promise<Health> {
    return this.#json('GET', '/health');
  }

  /** `GET /openapi.json`: the deployment's OpenAPI 3.1 document. */
  async openApiDocument(): Promise<OpenApiDocument> {
    return this.#json('GET', '/openapi.json');
  }

  /** `POST /accounts`: opens an account (409 if its id is taken). */
  async createAccount(request: CreateAccountInput): Promise<AccountView> {
    return this.#json('POST', '/accounts', { body: request });
  }

  /** `GET /accounts/{accountId}`. */
  async getAccount(accountId: string): Promise<AccountView> {
    return this.#json('GET', `/accounts/${segment('accountId', accountId)}`);
  }

  /** `POST /inventory/items`: adds an item with its stock (409 if the sku is taken). */
  async createItem(request: CreateItemInput): Promise<ItemView> {
    return this.#json('POST', '/inventory/items', { body: request });
  }

  /** `GET /inventory/items/{sku}`. */
  async getItem(sku: string): Promise<ItemView> {
    return this.#json('GET', `/inventory/items/${segment('sku', sku)}`);
  }

  /** `POST /transfers`: moves `amount` from one account to another, atomically. */
  async transfer(request: TransferInput, options: WaitOptions = {}): Promise<Submitted> {
    return this.#submit('/transfers', request, options);
  }

  /** `POST /transactions`: runs every operation or none. */
  async transaction<Op extends { readonly participant: string } = JsonOperation>(
    request: TransactionInput<Op>,
    options: WaitOptions = {},
  ): Promise<Submitted> {
    return this.#submit('/transactions', request, options);
  }

  /** `GET /transactions/{txId}`; with `wait`, held until the transaction is terminal or the wait ends. */
  async getTransaction(txId: string, options: WaitOptions = {}): Promise<TransactionView> {
    return this.#json('GET', `/transactions/${segment('txId', txId)}${waitQuery(options)}`);
  }

  /**
   * Sends any request to the API, signed like the others, and returns the answer whatever its
   * status; for routes this client has no method for, and for tests that send what the typed
   * methods cannot (malformed JSON, another content type). A string `body` is sent as it is,
   * anything else as JSON; `content-type` is `application/json` unless `headers` says otherwise.
   */
  async send(
    method: string,
    path: string,
    init: { readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> } = {},
  ): Promise<RawAnswer> {
    const { response, body } = await this.#exchange(method, path, init.body, init.headers ?? {});
    return { status: response.status, headers: response.headers, body };
  }

  async #submit(
    path: string,
    request: { readonly idempotencyKey?: string | undefined },
    options: WaitOptions,
  ): Promise<Submitted> {
    const { idempotencyKey, ...body } = request;
    const headers: Record<string, string> =
      idempotencyKey === undefined ? {} : { 'idempotency-key': keyHeader(idempotencyKey) };
    const exchanged = await this.#exchange('POST', `${path}${waitQuery(options)}`, body, headers);
    const answer = checked(exchanged) as TransactionView | AcceptedView;
    const { response } = exchanged;
    const common = {
      txId: answer.txId,
      location: response.headers.get('location') ?? `/transactions/${encodeURIComponent(answer.txId)}`,
      replayed: response.headers.get('idempotent-replayed') === 'true',
    };
    return response.status === 202
      ? { ...common, status: 202, view: answer as AcceptedView }
      : { ...common, status: 200, view: answer as TransactionView };
  }

  async #json<T>(method: string, path: string, init: { readonly body?: unknown } = {}): Promise<T> {
    return checked(await this.#exchange(method, path, init.body, {})) as T;
  }

  async #exchange(
    method: string,
    path: string,
    body: unknown,
    headers: Readonly<Record<string, string>>,
  ): Promise<Exchanged> {
    if (!path.startsWith('/')) throw new TypeError(`TandemClient: a path starts with '/', got '${path}'`);
    const url = new URL(`${this.#base}${path}`);
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const request = {
      method,
      url,
      headers: {
        ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
        ...lowerCased(headers),
      },
      body: text,
    };
    const signed = await this.#authorize(request);
    try {
      const response = await this.#fetch(url, {
        method,
        headers: signed,
        ...(text !== undefined ? { body: text } : {}),
      });
      return { method, url: url.href, response, body: parsed(await response.text()) };
    } catch (error) {
      throw new TandemNetworkError(method, url.href, error);
    }
  }
}

interface Exchanged {
  readonly method: string;
  readonly url: string;
  readonly response: Response;
  readonly body: unknown;
}

/** The body of a success answer; anything else thrown as the TandemApiError it is. */
function checked({ method, url, response, body }: Exchanged): unknown {
  const context = { method, url, status: response.status, statusText: response.statusText, body };
  if (!response.ok) throw apiErrorOf(context, response.headers.get('content-type'));
  if (typeof body !== 'object' || body === null) {
    const got = body === undefined ? 'an empty body' : JSON.stringify(body).slice(0, 200);
    throw new TandemApiError(
      { type: 'about:blank', title: 'not JSON', detail: `expected a JSON object, got ${got}`, errors: [] },
      context,
    );
  }
  return body;
}

function baseUrlOf(url: string | URL): URL {
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new TypeError(`TandemClient: url must be an absolute http(s) URL, got '${String(url)}'`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') {
    throw new TypeError(`TandemClient: url must be an http(s) URL, got '${parsedUrl.href}'`);
  }
  if (parsedUrl.search !== '' || parsedUrl.hash !== '') {
    throw new TypeError(`TandemClient: url must have no query or fragment, got '${parsedUrl.href}'`);
  }
  return parsedUrl;
}

/** A path parameter, encoded; an empty one would address another route. */
function segment(name: string, value: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`TandemClient: ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}

/** `?wait=N`, checked by the API's own schema (whole seconds, 0–20) before anything is sent. */
function waitQuery({ wait }: WaitOptions): string {
  if (wait === undefined) return '';
  const result = WaitSeconds.safeParse(typeof wait === 'number' ? String(wait) : wait);
  if (!result.success) {
    throw new TypeError(
      `TandemClient: wait must be a whole number of seconds from 0 to ${WAIT_MAX_S}, got ${JSON.stringify(wait)}`,
    );
  }
  return `?wait=${result.data}`;
}

/** The Idempotency-Key header's value, checked by the API's own schema (it must fit a header). */
function keyHeader(key: string): string {
  const result = IdempotencyKey.safeParse(key);
  if (!result.success) {
    throw new TypeError(
      `TandemClient: idempotencyKey ${result.error.issues[0]?.message ?? 'is invalid'}, got ${JSON.stringify(key)}`,
    );
  }
  return result.data;
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function parsed(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
