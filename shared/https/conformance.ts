import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Clock } from '../ports';
import type { JsonValue } from '../protocol';
import { type Phase, pathOf, phaseUrl, refusalReason, SIGNATURE_MAX_AGE_MS, signCall } from './contract';

/**
 * The conformance kit of the HTTPS participant contract (shared/https/contract.ts): it calls a live
 * endpoint as Tandem's relay would — and as the relay never would — on fresh transaction ids, and
 * reports each rule the endpoint breaks. `npm run participant-check -- --url <base> --secret <s>`.
 *
 * What the contract requires, rule by rule (RULES below):
 * - a try answers 200 (YES) or 409 (NO, with a reason), and a duplicate answers the same;
 * - a cancel before any try answers 200 and is remembered: a later try answers 409 (a tombstone);
 * - a try after a cancel answers 409; confirm and cancel repeat their 200;
 * - a branch ends once: after a cancel a confirm must not answer 200, nor a cancel after a confirm
 *   (the coordinator never sends both; an endpoint that acks both has applied and released one
 *   reservation). Any refusal will do — the SDK answers 500, a protocol violation;
 * - an unsigned, badly signed, tampered, expired or replayed call is refused with 401 (or 403):
 *   never 200, and never 409, which on a try is a NO vote;
 * - a malformed body, signed, is a 400 (or 422), not a 5xx.
 *
 * Rules marked `needsYes` need a try the endpoint accepts: `operations` must be operations it
 * says YES to any number of times (`{{txId}}` in a string is replaced by the transaction id, to
 * name a fresh item each time).
 */

export interface ConformanceOptions {
  /** The endpoint's base URL: the kit POSTs to `{baseUrl}/try`, `/confirm` and `/cancel`. */
  readonly baseUrl: string;
  readonly secret: string;
  /** The operations of a try the endpoint accepts; `[{}]` by default. */
  readonly operations?: readonly JsonValue[];
  /** The branch (participant id) named in calls; `conformance` by default. */
  readonly branch?: string;
  /** Per call; 10 s by default. */
  readonly timeoutMs?: number;
  /** The endpoint's signature lifetime, to sign an expired call; SIGNATURE_MAX_AGE_MS by default. */
  readonly maxAgeMs?: number;
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  /** Names this run's transactions (`check-<runId>-…`); random by default. */
  readonly runId?: string;
}

export interface RuleResult {
  readonly rule: string;
  readonly requirement: string;
  /** 'ok', 'broken' (with what went wrong, one line each), or 'skipped' (with why). */
  readonly status: 'ok' | 'broken' | 'skipped';
  readonly lines: readonly string[];
}

/** An HTTP answer, or why there was none. */
type Answer = { readonly status: number; readonly body: string } | { readonly error: string };

type Signing =
  | { readonly kind: 'valid' }
  | { readonly kind: 'none' }
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'expired' }
  | { readonly kind: 'tampered' };

interface Sent {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

class Caller {
  /** Whether a try of the given operations answered 200 (rules that need a YES run only then). */
  acceptsTries = false;
  /** Whether the endpoint answered at all. */
  answered = true;
  private lastStampMs = 0;
  private serial = 0;

  constructor(
    private readonly options: ConformanceOptions,
    private readonly runId: string,
  ) {}

  /** A fresh transaction id for `rule`. */
  tx(rule: string): string {
    return `check-${this.runId}-${rule}-${this.serial++}`;
  }

  /** The body of a well-formed call. */
  body(phase: Phase, txId: string): string {
    const base = { phase, transactionId: txId, branch: this.options.branch ?? 'conformance' };
    if (phase !== 'try') return JSON.stringify(base);
    return JSON.stringify({ ...base, operations: withTxId(this.options.operations ?? [{}], txId) });
  }

  /** Builds a call signed as `signing` says (a distinct timestamp each: never a replay by accident). */
  build(phase: Phase, body: string, signing: Signing = { kind: 'valid' }): Sent {
    const url = phaseUrl(this.options.baseUrl, phase);
    const nowMs = (this.options.clock ?? { nowMs: Date.now }).nowMs();
    this.lastStampMs = Math.max(nowMs, this.lastStampMs + 1);
    const maxAgeMs = this.options.maxAgeMs ?? SIGNATURE_MAX_AGE_MS;
    const atMs = signing.kind === 'expired' ? nowMs - maxAgeMs - 60_000 - this.serial++ : this.lastStampMs;
    const secret = signing.kind === 'secret' ? signing.secret : this.options.secret;
    const signedBody = signing.kind === 'tampered' ? body.replace(/}$/, ',"tampered":true}') : body;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(signing.kind === 'none'
        ? {}
        : signCall(secret, { method: 'POST', path: pathOf(url), body: signedBody }, atMs)),
    };
    return { url, headers, body };
  }

  async send(sent: Sent): Promise<Answer> {
    const fetcher = this.options.fetch ?? fetch;
    try {
      const response = await fetcher(sent.url, {
        method: 'POST',
        headers: sent.headers,
        body: sent.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      return { error: `${(error as Error).message}${cause ? ` (${cause})` : ''}` };
    }
  }

  call(phase: Phase, txId: string, signing?: Signing): Promise<Answer> {
    return this.send(this.build(phase, this.body(phase, txId), signing));
  }
}

/** Replaces `{{txId}}` in every string of `value`. */
function withTxId(value: readonly JsonValue[], txId: string): JsonValue[] {
  const walk = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return v.replaceAll('{{txId}}', txId);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return value.map(walk);
}

/** `answered 200 {…}`, or `got no answer (why)`. */
function shown(answer: Answer): string {
  if ('error' in answer) return `got no answer (${answer.error})`;
  const body = answer.body.replace(/\s+/g, ' ').trim();
  const status = `answered ${answer.status}`;
  return body === '' ? status : `${status} ${body.length > 160 ? `${body.slice(0, 159)}…` : body}`;
}

const statusOf = (answer: Answer) => ('status' in answer ? answer.status : undefined);

/** Collects what a rule finds wrong. */
class Findings {
  readonly lines: string[] = [];
  /** Expects `answer` to have one of `statuses`; false (and a line) when not. */
  expect(what: string, answer: Answer, statuses: readonly number[], why?: string): boolean {
    const status = statusOf(answer);
    if (status !== undefined && statuses.includes(status)) return true;
    this.lines.push(`${what} ${shown(answer)}; expected ${statuses.join(' or ')}${why ? ` (${why})` : ''}`);
    return false;
  }
  /** Expects `answer` to be a status not in `statuses`. */
  expectNot(what: string, answer: Answer, statuses: readonly number[], why: string): boolean {
    const status = statusOf(answer);
    if (status === undefined || !statuses.includes(status)) return true;
    this.lines.push(`${what} ${shown(answer)}: ${why}`);
    return false;
  }
}

interface Rule {
  readonly id: string;
  readonly requirement: string;
  readonly needsYes?: boolean;
  run(caller: Caller, findings: Findings): Promise<void>;
}

const REFUSED = [401, 403];
const MALFORMED = [400, 422];

/** Every rule the kit checks, in order. */
export const RULES: readonly Rule[] = [
  {
    id: 'try-accepted',
    requirement: 'a try of the given operations answers 200 (the rules below that need a YES rely on it)',
    async run(caller, findings) {
      const answer = await caller.call('try', caller.tx('yes'));
      caller.answered = !('error' in answer);
      caller.acceptsTries = findings.expect(
        'a try',
        answer,
        [200],
        'pass --operations that the endpoint accepts',
      );
    },
  },
  {
    id: 'duplicate-try',
    requirement: 'a duplicate try answers what the first one answered (a NO with the same reason)',
    async run(caller, findings) {
      const tx = caller.tx('dup');
      const first = await caller.call('try', tx);
      if (!findings.expect('the first try', first, [200, 409])) return;
      const second = await caller.call('try', tx);
      const sameReason =
        statusOf(first) !== 409 ||
        'error' in second ||
        refusalReason(second.body) === refusalReason((first as { body: string }).body);
      if (statusOf(second) !== statusOf(first) || !sameReason) {
        findings.lines.push(`the first try ${shown(first)}, the duplicate ${shown(second)}`);
      }
    },
  },
  {
    id: 'cancel-before-try',
    requirement: 'a cancel before any try answers 200, twice, and a later try answers 409',
    async run(caller, findings) {
      const tx = caller.tx('tomb');
      findings.expect('a cancel before any try', await caller.call('cancel', tx), [200]);
      findings.expect('the cancel again', await caller.call('cancel', tx), [200]);
      findings.expect(
        'a try after that cancel',
        await caller.call('try', tx),
        [409],
        'the cancel must be remembered: the try reserves nothing and votes NO',
      );
    },
  },
  {
    id: 'try-after-cancel',
    requirement: 'a try after its cancel answers 409',
    needsYes: true,
    async run(caller, findings) {
      const tx = caller.tx('late');
      if (!findings.expect('a try', await caller.call('try', tx), [200])) return;
      findings.expect('its cancel', await caller.call('cancel', tx), [200]);
      findings.expect(
        'a try after the cancel',
        await caller.call('try', tx),
        [409],
        'the branch is cancelled',
      );
    },
  },
  {
    id: 'confirm-twice',
    requirement: 'a confirm answers 200, and again 200 when repeated',
    needsYes: true,
    async run(caller, findings) {
      const tx = caller.tx('conf');
      if (!findings.expect('a try', await caller.call('try', tx), [200])) return;
      findings.expect('the confirm', await caller.call('confirm', tx), [200]);
      findings.expect('the same confirm again', await caller.call('confirm', tx), [200]);
    },
  },
  {
    id: 'cancel-twice',
    requirement: 'a cancel after a YES answers 200, and again 200 when repeated',
    needsYes: true,
    async run(caller, findings) {
      const tx = caller.tx('canc');
      if (!findings.expect('a try', await caller.call('try', tx), [200])) return;
      findings.expect('the cancel', await caller.call('cancel', tx), [200]);
      findings.expect('the same cancel again', await caller.call('cancel', tx), [200]);
    },
  },
  {
    id: 'cancel-then-confirm',
    requirement: 'after a cancel, a confirm of the same branch is not answered 200',
    needsYes: true,
    async run(caller, findings) {
      const tx = caller.tx('c-c');
      if (!findings.expect('a try', await caller.call('try', tx), [200])) return;
      if (!findings.expect('the cancel', await caller.call('cancel', tx), [200])) return;
      findings.expectNot(
        'a confirm after the cancel',
        await caller.call('confirm', tx),
        [200, 201, 202, 204],
        'a branch ends once: it was cancelled, so it cannot be confirmed',
      );
    },
  },
  {
    id: 'confirm-then-cancel',
    requirement: 'after a confirm, a cancel of the same branch is not answered 200',
    needsYes: true,
    async run(caller, findings) {
      const tx = caller.tx('f-c');
      if (!findings.expect('a try', await caller.call('try', tx), [200])) return;
      if (!findings.expect('the confirm', await caller.call('confirm', tx), [200])) return;
      findings.expectNot(
        'a cancel after the confirm',
        await caller.call('cancel', tx),
        [200, 201, 202, 204],
        'a branch ends once: it was confirmed, so it cannot be cancelled',
      );
    },
  },
  ...(
    [
      ['unsigned-call', 'a try without signature headers', { kind: 'none' }],
      [
        'wrong-secret',
        'a try signed with another secret',
        { kind: 'secret', secret: randomBytes(16).toString('hex') },
      ],
      ['tampered-body', 'a try whose body differs from the body signed', { kind: 'tampered' }],
      ['expired-signature', 'a try signed longer ago than a signature lives', { kind: 'expired' }],
    ] as const
  ).map(
    ([id, what, signing]): Rule => ({
      id,
      requirement: `${what} is refused with 401 (not 200, not 409) and changes nothing`,
      async run(caller, findings) {
        const tx = caller.tx(id);
        findings.expect(
          what,
          await caller.call('try', tx, signing),
          REFUSED,
          'an unauthenticated call is refused',
        );
        // Refused means nothing happened: the same transaction, properly signed, still prepares.
        if (!caller.acceptsTries) return;
        const after = await caller.call('try', tx);
        findings.expect(
          'a signed try of the same transaction then',
          after,
          [200],
          'the refused call left a mark',
        );
      },
    }),
  ),
  {
    id: 'replayed-call',
    requirement: 'the very same signed call sent again is refused with 401 (not 200, not 409)',
    async run(caller, findings) {
      const tx = caller.tx('replay');
      const sent = caller.build('try', caller.body('try', tx));
      if (!findings.expect('the original try', await caller.send(sent), [200, 409])) return;
      findings.expect(
        'its replay (same headers, same body)',
        await caller.send(sent),
        REFUSED,
        'a replay is refused',
      );
    },
  },
  {
    id: 'malformed-body',
    requirement: 'a signed call with a malformed body answers 400, not 5xx nor 2xx',
    async run(caller, findings) {
      const tx = caller.tx('bad');
      const cases: readonly [string, Phase, string][] = [
        ['a try whose body is not JSON', 'try', '{"phase":"try",'],
        [
          'a try without transactionId',
          'try',
          JSON.stringify({ phase: 'try', branch: 'b', operations: [{}] }),
        ],
        [
          'a try without operations',
          'try',
          JSON.stringify({ phase: 'try', transactionId: tx, branch: 'b', operations: [] }),
        ],
        [
          'a confirm whose body says cancel',
          'confirm',
          JSON.stringify({ phase: 'cancel', transactionId: tx, branch: 'b' }),
        ],
        ['a cancel with a JSON array body', 'cancel', '[]'],
      ];
      for (const [what, phase, body] of cases) {
        findings.expect(what, await caller.send(caller.build(phase, body)), MALFORMED);
      }
    },
  },
];

/** Runs every rule against the endpoint; resolves with a result per rule. */
export async function checkConformance(options: ConformanceOptions): Promise<RuleResult[]> {
  const caller = new Caller(
    options,
    options.runId ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
  );
  const results: RuleResult[] = [];
  for (const [index, rule] of RULES.entries()) {
    const skip = !caller.answered
      ? 'not checked: the endpoint did not answer'
      : rule.needsYes && !caller.acceptsTries && index > 0
        ? 'not checked: it needs a try the endpoint accepts (see try-accepted)'
        : undefined;
    if (skip !== undefined) {
      results.push({ rule: rule.id, requirement: rule.requirement, status: 'skipped', lines: [skip] });
      continue;
    }
    const findings = new Findings();
    await rule.run(caller, findings);
    results.push({
      rule: rule.id,
      requirement: rule.requirement,
      status: findings.lines.length === 0 ? 'ok' : 'broken',
      lines: findings.lines,
    });
  }
  return results;
}

/** The report: a line per rule, and under each broken one what went wrong. */
export function formatReport(baseUrl: string, results: readonly RuleResult[]): string {
  const broken = results.filter((r) => r.status === 'broken').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  const mark = { ok: '✓', broken: '✗', skipped: '–' } as const;
  const lines = [`participant-check ${baseUrl}`];
  for (const result of results) {
    lines.push(`${mark[result.status]} ${result.rule}: ${result.requirement}`);
    for (const line of result.lines) lines.push(`    ${line}`);
  }
  lines.push(
    broken === 0 && skipped === 0
      ? `all ${results.length} rules hold`
      : `${broken} of ${results.length} rules broken${skipped > 0 ? `, ${skipped} not checked` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

// ─── The command ─────────────────────────────────────────────────────────────────────────────

const USAGE = `usage: npm run participant-check -- --url <base URL> --secret <secret> [options]
       npx tandem-participant-check --url <base URL> --secret <secret> [options]   (with tandem installed)

Calls an HTTPS participant as Tandem's relay would (and as it never would), on fresh transaction
ids, and reports each rule of the contract the endpoint breaks. Exits 1 if any, 2 on bad input.

  --url <base>          the endpoint's base URL (the kit POSTs to <base>/try, /confirm, /cancel)
  --secret <secret>     the shared signing secret (or set TANDEM_PARTICIPANT_SECRET)
  --operations <json>   a JSON array: the operations of a try the endpoint accepts, any number
                        of times; "{{txId}}" in a string becomes the transaction id ([{}] by default)
  --branch <id>         the participant id named in calls (conformance by default)
  --timeout-ms <ms>     per call (10000 by default)
  --max-age-ms <ms>     the endpoint's signature lifetime (${SIGNATURE_MAX_AGE_MS} by default)
`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads the command's arguments; throws UsageError with a readable message. */
export function parseCheckArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ConformanceOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        secret: { type: 'string' },
        operations: { type: 'string' },
        branch: { type: 'string' },
        'timeout-ms': { type: 'string' },
        'max-age-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) throw new UsageError('');
  const url = values.url as string | undefined;
  if (url === undefined || url.trim() === '')
    throw new UsageError('--url is required: the endpoint’s base URL');
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  if (parsedUrl.protocol !== 'https:' && parsedUrl.protocol !== 'http:') {
    throw new UsageError(`--url must be http(s), not ${parsedUrl.protocol}`);
  }
  const secret = (values.secret as string | undefined) ?? env.TANDEM_PARTICIPANT_SECRET;
  if (secret === undefined || secret === '') {
    throw new UsageError(
      '--secret is required (or set TANDEM_PARTICIPANT_SECRET): the shared signing secret',
    );
  }
  let operations: JsonValue[] | undefined;
  if (values.operations !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(values.operations as string);
    } catch (error) {
      throw new UsageError(`--operations is not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(json) || json.length === 0) {
      throw new UsageError(
        '--operations must be a JSON array of at least one operation, e.g. [{"seat":"12C"}]',
      );
    }
    operations = json as JsonValue[];
  }
  const number = (name: string) => {
    const text = values[name] as string | undefined;
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) <= 0)
      throw new UsageError(`--${name} must be a positive number of ms`);
    return Number(text);
  };
  const timeoutMs = number('timeout-ms');
  const maxAgeMs = number('max-age-ms');
  return {
    baseUrl: url,
    secret,
    ...(operations !== undefined ? { operations } : {}),
    ...(values.branch !== undefined ? { branch: values.branch as string } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
  };
}

export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** `participant-check`: 0 when every rule holds, 1 when one is broken, 2 on bad input. */
export async function main(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<ConformanceOptions> = {},
): Promise<number> {
  let options: ConformanceOptions;
  try {
    options = { ...parseCheckArgs(argv, env), ...overrides };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message === '') {
      io.stdout.write(USAGE);
      return 0;
    }
    io.stderr.write(`participant-check: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  const results = await checkConformance(options);
  io.stdout.write(formatReport(options.baseUrl, results));
  return results.every((r) => r.status === 'ok') ? 0 : 1;
}
