import type { EventPublisher, EventSource } from '../events';
import type { SlotRow, TxRecord } from '../protocol';

/**
 * Ports of the operator tools. `aws.ts` implements them with the AWS SDK (CloudFormation,
 * DynamoDB, SQS); the unit tests with in-memory fakes.
 */

export interface StackResource {
  readonly logicalId: string;
  /** For an `AWS::SQS::Queue`, its URL. */
  readonly physicalId: string;
  readonly type: string;
}

/** What the CloudFormation stack says about itself. */
export interface StackInfo {
  /** Output key → value (DescribeStacks). Throws RefusedError when the stack does not exist. */
  outputs(stackName: string): Promise<Readonly<Record<string, string>>>;
  /** Every resource of the stack (ListStackResources). */
  resources(stackName: string): Promise<readonly StackResource[]>;
}

/** A live transaction as the sparse `due` index holds it (keys only). */
/** A live (unfinished) transaction in the `due` index: its record key (shared/txid.ts). */
export interface LiveKey {
  readonly recordKey: string;
  readonly slot: number;
  readonly nextCheckAtMs: number;
}

/** Reads of the coordinator log. */
export interface TxReader {
  load(txId: string): Promise<TxRecord | undefined>;
  /** Every transaction in the `due` index, in every slot (all pages), at most `max`. */
  liveKeys(max: number): Promise<LiveKey[]>;
  /** Whatever transaction a record key holds now. */
  loadAt(recordKey: string): Promise<TxRecord | undefined>;
  /** Every transaction that ended (`completedAtMs`) in [fromMs, toMs]: a Scan of the whole log. */
  endedBetween(fromMs: number, toMs: number): Promise<EventSource[]>;
  /**
   * Up to `max` transactions of the whole log, in no particular order: a bounded Scan (the table's
   * only index, `due`, holds live records by slot, so nothing else lists finished ones).
   */
  scan(max: number): Promise<{ readonly records: TxRecord[]; readonly truncated: boolean }>;
}

export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** ApproximateReceiveCount, including the receive that returned this message. */
  readonly receiveCount: number;
  readonly sentAtMs: number | undefined;
  /** FIFO queues only. */
  readonly groupId: string | undefined;
  readonly attributes: Readonly<Record<string, MessageAttribute>>;
}

export interface OutgoingMessage {
  /** Unique within one batch. */
  readonly id: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttribute>>;
  /** FIFO queues only. */
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

export interface MoveTaskStatus {
  /** RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED. */
  readonly status: string;
  readonly moved: number;
  readonly toMove: number | undefined;
  readonly failureReason: string | undefined;
}

/** The SQS calls the tools make. */
export interface QueueService {
  attributes(queueUrl: string, names: readonly string[]): Promise<Readonly<Record<string, string>>>;
  /** GetQueueUrl of the queue an ARN names. */
  urlOfArn(queueArn: string): Promise<string>;
  send(queueUrl: string, message: Omit<OutgoingMessage, 'id'>): Promise<void>;
  receive(
    queueUrl: string,
    options: { readonly max: number; readonly visibilityTimeoutS: number; readonly waitS: number },
  ): Promise<ReceivedMessage[]>;
  /** ChangeMessageVisibility 0: the messages are visible again at once. */
  release(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
  /** SendMessageBatch (≤ 10); returns the ids of the entries that failed. */
  sendBatch(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<{ failedIds: string[] }>;
  /** DeleteMessageBatch (≤ 10). */
  deleteBatch(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
  /** StartMessageMoveTask; `unsupported` when the endpoint does not have the action. */
  startMoveTask(
    sourceArn: string,
    destinationArn: string,
  ): Promise<{ readonly taskHandle: string } | 'unsupported'>;
  /** The newest move task of `sourceArn` (ListMessageMoveTasks). */
  moveTaskStatus(sourceArn: string): Promise<MoveTaskStatus | undefined>;
}

export interface OpsClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

/** Everything a command may use, built once per invocation. */
export interface OpsDeps {
  readonly stack: StackInfo;
  readonly queues: QueueService;
  readonly clock: OpsClock;
  txReader(transactionsTable: string): TxReader;
  /** Reads the leader slot table (owner, epoch, lease of each slot). */
  slotReader(slotsTable: string): { read(slot: number): Promise<SlotRow | undefined> };
  /** Puts transaction events on the stack's bus. */
  publisher(busName: string): EventPublisher;
}
