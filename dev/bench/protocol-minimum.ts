/** The floor the two-phase protocol's billed requests are measured against. */
export function checkParticipants(participants: number): void {
  if (!Number.isSafeInteger(participants) || participants < 1) {
    throw new Error(`participants must be a positive integer, got ${participants}`);
  }
}

/** The terms of `protocolMinimumRequests`, for the report to print. */
export interface ProtocolMinimum {
  readonly participants: number;
  /** The client's request reaching the coordinator: API request, Lambda invocation, record write. */
  readonly entry: { readonly apiRequests: 1; readonly lambdaInvocations: 1; readonly recordWrites: 1 };
  /** Prepare, Vote, Commit and Ack per participant: 4N. */
  readonly messages: number;
  /** SendMessage + ReceiveMessage + DeleteMessage + the Lambda invocation that handles it. */
  readonly requestsPerMessage: 4;
  /** 16N. */
  readonly messageRequests: number;
  /** Prepare and commit, at each participant: 2N. */
  readonly participantWrites: number;
  /** The coordinator's durable decision. */
  readonly decisionWrites: 1;
  /** 18N + 4. */
  readonly total: number;
  readonly formula: '18N + 4';
}

/**
 * The fewest billed requests a two-phase commit of N participants can need on this architecture
 * (API Gateway, Lambda, SQS and DynamoDB), counted as follows:
 * - entry: 1 API request + 1 Lambda invocation + 1 write of the transaction record (3);
 * - 4N protocol messages (Prepare, Vote, Commit and Ack for each participant), each at least
 *   SendMessage + ReceiveMessage + DeleteMessage + 1 Lambda invocation: 4 billed requests when
 *   unbatched (16N);
 * - 2N participant writes (prepare and commit) + 1 write of the decision (2N + 1).
 * Total: 18N + 4, i.e. 40 for N = 2. Reads, and any write the coordinator makes to record votes
 * and acks, are not counted: this is a floor to measure against, not a design. Batching (one
 * receive or delete for several messages) can go below it.
 */
export function protocolMinimum(participants: number): ProtocolMinimum {
  checkParticipants(participants);
  const messages = 4 * participants;
  const messageRequests = 4 * messages;
  const participantWrites = 2 * participants;
  return {
    participants,
    entry: { apiRequests: 1, lambdaInvocations: 1, recordWrites: 1 },
    messages,
    requestsPerMessage: 4,
    messageRequests,
    participantWrites,
    decisionWrites: 1,
    total: 3 + messageRequests + participantWrites + 1,
    formula: '18N + 4',
  };
}

/** {@link protocolMinimum}'s total: 18N + 4 billed requests (40 for two participants). */
export function protocolMinimumRequests(participants: number): number {
  return protocolMinimum(participants).total;
}
