/** What a seed of the simulation did, counted; `runSeeds` adds seeds up (maxima for MAX_STATS). */
export interface SimStats {
  events: number;
  virtualMs: number;
  submits: number;
  transactions: number;
  committed: number;
  aborted: number;
  /** Aborts by the prepare deadline (the rest: a NO vote). */
  timeouts: number;
  apiRejected: number;
  apiConflicts: number;
  crashes: number;
  injectedErrors: number;
  duplicates: number;
  redeliveries: number;
  takeovers: number;
  zombies: number;
  fenceRejections: number;
  versionConflicts: number;
  dlqMoves: number;
  /** Writes cancelled because another transactional write on one of their items was in flight. */
  conflicts: number;
  /** Writes throttled (during faults). */
  throttles: number;
  /** Zombies that found their batch's hold over and dropped it instead of taking a slot. */
  zombieDrops: number;
  /** Terminal records deleted by the TTL. */
  expired: number;
  /** Transactions a participant ended (its ack note completed the set: RecordNote). */
  endedByParticipants: number;
  /** Requests with an idempotency key whose record had expired: a new transaction, a new id. */
  keysReused: number;
  /** Seeds with an HTTPS participant (its messages go through the relay). */
  httpsSeeds: number;
  /** Calls the relay made to the endpoint, and how many of them timed out / were refused / busy. */
  httpCalls: number;
  httpTimeouts: number;
  httpRefused: number;
  /** 425, 429 and 503 answers from the endpoint's front (with or without Retry-After). */
  httpBusy: number;
  /** Requests the network delivered twice to the endpoint. */
  httpDuplicates: number;
  /** Calls whose answer was lost after the endpoint applied them (the relay saw a timeout). */
  httpLostAnswers: number;
  /** Calls made while the endpoint was down. */
  httpDown: number;
  /** Seeds whose endpoint was down longer than the prepare timeout. */
  longOutages: number;
  /** Answers the contract does not give (400, 404, a 409 to a finish) from the endpoint's front. */
  httpOffContract: number;
  /** Tries the relay gave up on (a NO vote), and confirms/cancels (nothing sent). */
  relayTryGiveUps: number;
  relayFinishGiveUps: number;
  /** Relay invocations killed by their function's timeout. */
  relayKilled: number;
  /** Give-up NO votes after a recorded YES, dead-lettered by the coordinator (a known issue). */
  /** Longest first receive → delete of a message received after faults stopped (ms; a maximum). */
  maxBlockedMs: number;
  /** Longest wait, after faults stopped (or after it began), for a transaction to end (ms; a maximum). */
  maxTerminalLagMs: number;
}

/** Stats that are maxima across seeds, not sums. */
export const MAX_STATS = ['maxBlockedMs', 'maxTerminalLagMs'] as const satisfies ReadonlyArray<
  keyof SimStats
>;

export function emptyStats(): SimStats {
  return {
    events: 0,
    virtualMs: 0,
    submits: 0,
    transactions: 0,
    committed: 0,
    aborted: 0,
    timeouts: 0,
    apiRejected: 0,
    apiConflicts: 0,
    crashes: 0,
    injectedErrors: 0,
    duplicates: 0,
    redeliveries: 0,
    takeovers: 0,
    zombies: 0,
    fenceRejections: 0,
    versionConflicts: 0,
    dlqMoves: 0,
    conflicts: 0,
    throttles: 0,
    zombieDrops: 0,
    expired: 0,
    endedByParticipants: 0,
    keysReused: 0,
    httpsSeeds: 0,
    httpCalls: 0,
    httpTimeouts: 0,
    httpRefused: 0,
    httpBusy: 0,
    httpDuplicates: 0,
    httpLostAnswers: 0,
    httpDown: 0,
    longOutages: 0,
    httpOffContract: 0,
    relayTryGiveUps: 0,
    relayFinishGiveUps: 0,
    relayKilled: 0,
    maxBlockedMs: 0,
    maxTerminalLagMs: 0,
  };
}
