import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ConflictInjection, DynamoFaultSource } from '../adapters/dynamo-faults';
import { type FaultHit, type Faults, NO_FAULTS } from '../faults';

/**
 * Fault injection (test deployments only) as the functions use it: each delivery of a message runs
 * inside `run`, which hands it the transaction's faults. Per message, not per invocation — a plan
 * targets one transaction and a batch holds many — so it wraps the record handler's work rather
 * than being a middleware of the invocation.
 */
export interface FaultRunner {
  run<T>(
    txId: string,
    receiveCount: number,
    work: (faults: Faults, hit: (fault: FaultHit) => void, conflicts: ConflictInjection) => Promise<T>,
  ): Promise<T>;
}

/** No plan, ever: what a function without a Faults table, or a unit test, runs with. */
export const NO_FAULT_RUNNER: FaultRunner = {
  run: (_txId, _receiveCount, work) => work(NO_FAULTS, () => {}, { storeAt: (_point, plain) => plain }),
};

/** The Faults table's plans when FAULTS_TABLE is set (a test deployment), none otherwise. */
export function faultRunner(
  env: NodeJS.ProcessEnv,
  dynamo: DynamoDBDocumentClient,
  logger: Logger,
): FaultRunner {
  return new DynamoFaultSource(dynamo, env.FAULTS_TABLE, (error) =>
    logger.warn('could not count injected faults', { error }),
  );
}

/** A sender that can send every message twice (fault plan `duplicate`); SqsTransport is one. */
export interface Duplicating<T> {
  duplicating(onDuplicate: (hit: FaultHit) => void): T;
}

/** `transport`, or its duplicating copy when the plan asks for duplicates. */
export function senderFor<T>(
  transport: T & Duplicating<T>,
  faults: Faults,
  hit: (fault: FaultHit) => void,
): T {
  return faults.duplicate ? transport.duplicating(hit) : transport;
}
