import { readCoordinatorTimings, SLOT_COUNT_MAX } from '../config';
import { envInt, envString, envStringMap } from '../env';
import type { CoordinatorConfig, LeaseConfig } from '../protocol';

/** Environment of the coordinator-side functions (coordinator, timers, sweeper), read at cold start. */
export interface CoordinatorEnv {
  readonly transactionsTable: string;
  readonly slotsTable: string;
  readonly coordinatorQueueUrl: string;
  readonly timerQueueUrl: string;
  /** Participant id (e.g. `ledger-0`, `inventory`) → inbox queue URL. */
  readonly participantQueues: Readonly<Record<string, string>>;
  readonly slotCount: number;
  readonly protocol: CoordinatorConfig;
  readonly lease: LeaseConfig;
}

export function readCoordinatorEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorEnv {
  return {
    transactionsTable: envString(env, 'TRANSACTIONS_TABLE'),
    slotsTable: envString(env, 'SLOTS_TABLE'),
    coordinatorQueueUrl: envString(env, 'COORDINATOR_QUEUE_URL'),
    timerQueueUrl: envString(env, 'TIMER_QUEUE_URL'),
    participantQueues: envStringMap(env, 'PARTICIPANT_QUEUES'),
    slotCount: envInt(env, 'SLOT_COUNT', 1, SLOT_COUNT_MAX),
    protocol: readCoordinatorTimings(env),
    lease: {
      leaseDurationMs: envInt(env, 'LEASE_DURATION_MS', 1),
      skewMarginMs: envInt(env, 'LEASE_SKEW_MARGIN_MS', 0),
    },
  };
}
