/** Reading the handlers' meter lines back from CloudWatch Logs, once the stack has gone quiet. */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { METER_LOG_KEY, type MeterLine } from '../../shared/metering';
import { parseMeterLine } from './meter-lines';

/**
 * Reads meter lines logged since `sinceMs` until none has arrived for `quietMs` (at most 2 min),
 * and returns them all.
 */
export async function waitQuiet(
  logs: CloudWatchLogsClient,
  sinceMs: number,
  quietMs: number,
): Promise<MeterLine[]> {
  const deadline = Date.now() + 120_000;
  let lines = await meterLines(logs, sinceMs);
  let lastCount = lines.length;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    await sleep(1_000);
    lines = await meterLines(logs, sinceMs);
    if (lines.length !== lastCount) {
      lastCount = lines.length;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) break;
  }
  return lines;
}

/** Most events one FilterLogEvents page returns (AWS and the emulator). */
const FILTER_PAGE_MAX = 10_000;

/** Every meter line in every log group since `sinceMs`. */
async function meterLines(logs: CloudWatchLogsClient, sinceMs: number): Promise<MeterLine[]> {
  const groups: string[] = [];
  let token: string | undefined;
  do {
    const page = await logs.send(new DescribeLogGroupsCommand({ nextToken: token }));
    for (const group of page.logGroups ?? []) if (group.logGroupName) groups.push(group.logGroupName);
    token = page.nextToken;
  } while (token);
  const lines: MeterLine[] = [];
  const untilMs = Date.now() + 1_000;
  for (const logGroupName of groups) {
    for (const message of await meterMessages(logs, logGroupName, sinceMs, untilMs)) {
      const line = parseMeterLine(message);
      if (line) lines.push(line);
    }
  }
  return lines;
}

/**
 * The meter messages of one log group between two instants (inclusive). Follows `nextToken`, and
 * where a page comes back full without one (the emulator caps a call at 10,000 events and has no
 * token), splits the time window in halves until every half fits — so no line is ever dropped.
 */
async function meterMessages(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  fromMs: number,
  toMs: number,
): Promise<string[]> {
  const messages: string[] = [];
  let next: string | undefined;
  let tokens = 0;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName,
        startTime: fromMs,
        endTime: toMs,
        filterPattern: `"${METER_LOG_KEY}"`,
        nextToken: next,
      }),
    );
    for (const event of page.events ?? []) messages.push(event.message ?? '');
    next = page.nextToken;
    if (next) tokens++;
  } while (next);
  if (tokens === 0 && messages.length >= FILTER_PAGE_MAX && toMs > fromMs) {
    const mid = Math.floor((fromMs + toMs) / 2);
    return [
      ...(await meterMessages(logs, logGroupName, fromMs, mid)),
      ...(await meterMessages(logs, logGroupName, mid + 1, toMs)),
    ];
  }
  return messages;
}
