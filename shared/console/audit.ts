import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CONSOLE_ACTION_DETAIL_TYPE, type ConsoleActionEvent, type EventPublisher } from '../events';

/**
 * The console's audit trail: each state-changing request (who, what, when, the answer) is put on
 * the stack's bus as a `ConsoleAction` event (source `tandem.console`) and then appended as one
 * JSON line to a local file. The line says whether the event was put; a bus that refuses or is
 * unreachable never hides the action's answer.
 */

export const DEFAULT_AUDIT_PATH = '.tandem/console-audit.jsonl';

export interface AuditLine {
  readonly atMs: number;
  readonly at: string;
  readonly who: string;
  readonly what: string;
  readonly request: { readonly query: Readonly<Record<string, string>>; readonly body: unknown };
  readonly status: number;
  readonly answer: unknown;
  readonly event:
    | { readonly put: true; readonly eventId: string }
    | { readonly put: false; readonly eventId?: string; readonly error: string };
}

export interface AuditTrail {
  record(entry: Omit<AuditLine, 'event' | 'at'>): Promise<AuditLine>;
}

export function auditTrail(options: {
  readonly path: string;
  /** Undefined: the stack has no bus (deployed with events off); the line says so. */
  readonly publisher: EventPublisher | undefined;
}): AuditTrail {
  return {
    async record(entry) {
      const eventId = randomUUID();
      const event: ConsoleActionEvent = {
        detailType: CONSOLE_ACTION_DETAIL_TYPE,
        eventId,
        who: entry.who,
        what: entry.what,
        atMs: entry.atMs,
        status: entry.status,
        answer: entry.answer,
      };
      let outcome: AuditLine['event'];
      if (!options.publisher) {
        outcome = { put: false, error: 'the stack has no event bus (deployed with events off)' };
      } else {
        try {
          const failures = await options.publisher.publish([event]);
          outcome =
            failures.length === 0
              ? { put: true, eventId }
              : { put: false, eventId, error: failures.map((f) => f.reason).join('; ') };
        } catch (error) {
          outcome = { put: false, eventId, error: error instanceof Error ? error.message : String(error) };
        }
      }
      const line: AuditLine = { ...entry, at: new Date(entry.atMs).toISOString(), event: outcome };
      await mkdir(dirname(options.path), { recursive: true });
      await appendFile(options.path, `${JSON.stringify(line)}\n`, 'utf8');
      return line;
    },
  };
}
