/** The one list of the bench's workloads, with each one's facts. */
import type { Workload } from './types';

/** What the bench and its report need to know of a workload. */
export interface WorkloadFacts {
  /** How the report names it. */
  readonly label: string;
  /** Through the two-phase path: its answers carry the record's times, split into phases (./phases). */
  readonly twoPhase: boolean;
  /** Puts its outcome on the event bus: it runs only on a deployment with events on. */
  readonly needsEvents: boolean;
}

/** Every workload with its facts, in the order the bench runs them and the report lists them. */
export const WORKLOAD_FACTS: Readonly<Record<Workload, WorkloadFacts>> = {
  'two-phase': { label: 'Tandem two-phase', twoPhase: true, needsEvents: false },
  'one-phase': { label: 'Tandem one-phase', twoPhase: false, needsEvents: false },
  direct: { label: 'Hand-rolled TransactWriteItems', twoPhase: false, needsEvents: false },
  'direct-events': {
    label: 'Hand-rolled TransactWriteItems + PutEvents',
    twoPhase: false,
    needsEvents: true,
  },
  https: { label: 'Tandem two-phase, ledger + HTTPS participant', twoPhase: true, needsEvents: false },
};

export const WORKLOADS = Object.keys(WORKLOAD_FACTS) as readonly Workload[];
