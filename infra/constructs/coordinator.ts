import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DataTable, grantTable, type TableKeeping } from './data-table';
import { addNagSuppressions } from './nag';
import { NodeFunction, VISIBILITY_TIMEOUT_FACTOR } from './node-function';
import { SecureQueue } from './secure-queue';

export interface CoordinatorProps extends TableKeeping {
  readonly slotCount: number;
  readonly prepareTimeoutMs: number;
  readonly resendBaseMs: number;
  readonly resendCapMs: number;
  readonly leaseDurationMs: number;
  readonly leaseSkewMarginMs: number;
  /** The Faults table of a test deployment; absent everywhere else. */
  readonly faultsTable?: dynamodb.ITable;
  /** Events out: the transactions table gets a stream, for the events function to read. */
  readonly stream: boolean;
}

/** What a participant needs to know of the coordinator side to join it. */
export interface CoordinatorEndpoint {
  readonly queue: SecureQueue;
  readonly slotCount: number;
}

/**
 * The coordinator side of Tandem: the transaction log, the leader slot table, the FIFO input
 * queue (message group = slot), the timer queue, and three functions — the coordinator (FIFO
 * consumer), the timer forwarder, and the sweeper on a one-minute schedule.
 */
export class Coordinator extends Construct implements CoordinatorEndpoint {
  readonly transactions: dynamodb.Table;
  readonly slots: dynamodb.Table;
  readonly queue: SecureQueue;
  readonly timers: SecureQueue;
  readonly coordinatorFn: NodeFunction;
  readonly timerFn: NodeFunction;
  readonly sweeperFn: NodeFunction;
  readonly slotCount: number;
  private readonly participantQueues: Record<string, string> = {};
  private readonly inboxes: SecureQueue[] = [];
  private readonly producers: iam.IGrantable[] = [];

  constructor(scope: Construct, id: string, props: CoordinatorProps) {
    super(scope, id);
    this.slotCount = props.slotCount;
    const stateful = {
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
      encryptionKey: props.encryptionKey,
    };

    // The coordinator's durable log: one item per transaction; terminal ones expire by TTL.
    this.transactions = new DataTable(this, 'Transactions', {
      partitionKey: { name: 'txId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAtS',
      ...(props.stream ? { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
      ...stateful,
    }).table;
    // Sparse: only live transactions carry nextCheckAtMs, so the sweeper reads only what is due.
    this.transactions.addGlobalSecondaryIndex({
      indexName: 'due',
      partitionKey: { name: 'slot', type: dynamodb.AttributeType.NUMBER },
      sortKey: { name: 'nextCheckAtMs', type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // The leader slot table: one item per slot with owner, epoch (fencing token) and lease expiry.
    this.slots = new DataTable(this, 'Slots', {
      partitionKey: { name: 'slot', type: dynamodb.AttributeType.NUMBER },
      ...stateful,
    }).table;

    const coordinatorTimeout = Duration.seconds(10);
    const timerTimeout = Duration.seconds(5);
    // FIFO with the slot as message group: one input of a slot at a time, in order. Its visibility
    // timeout is 6 × the coordinator's timeout (NodeFunction.consume checks it), so a batch is held
    // past the end of any invocation working on it: the coordinator takes a slot over only before
    // its own deadline (BatchHold). High-throughput mode: a default FIFO queue takes 300
    // SendMessage calls/s, and a transfer sends it 4 (votes and acks), so it would cap the stack
    // near 75 transfers/s (docs/model.md). Every message of a transaction goes to its slot's group,
    // so deduplication per group loses nothing.
    this.queue = new SecureQueue(this, 'Inbox', {
      fifo: true,
      highThroughput: true,
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * coordinatorTimeout.toSeconds()),
      removalPolicy: props.removalPolicy,
    });
    // Standard queue: timers need per-message delays, which FIFO queues do not have.
    this.timers = new SecureQueue(this, 'Timers', {
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timerTimeout.toSeconds()),
      removalPolicy: props.removalPolicy,
    });

    const environment = {
      TRANSACTIONS_TABLE: this.transactions.tableName,
      SLOTS_TABLE: this.slots.tableName,
      ...this.producerEnvironment(),
      COORDINATOR_QUEUE_URL: this.queue.queue.queueUrl,
      SLOT_COUNT: String(props.slotCount),
      PREPARE_TIMEOUT_MS: String(props.prepareTimeoutMs),
      RESEND_BASE_MS: String(props.resendBaseMs),
      RESEND_CAP_MS: String(props.resendCapMs),
      LEASE_DURATION_MS: String(props.leaseDurationMs),
      LEASE_SKEW_MARGIN_MS: String(props.leaseSkewMarginMs),
      ...(props.faultsTable ? { FAULTS_TABLE: props.faultsTable.tableName } : {}),
    };

    this.coordinatorFn = new NodeFunction(this, 'CoordinatorFn', {
      code: 'coordinator',
      description: 'Tandem coordinator: votes, acks, checks and operator aborts, one slot at a time',
      timeout: coordinatorTimeout,
      removalPolicy: props.removalPolicy,
      environment: {
        ...environment,
        COORDINATOR_DLQ_URL: this.queue.dlq.queueUrl,
      },
    });
    this.coordinatorFn.consume(this.queue);
    grantTable(this.coordinatorFn.role, this.transactions, 'dynamodb:GetItem', 'dynamodb:PutItem');
    grantTable(
      this.coordinatorFn.role,
      this.slots,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:ConditionCheckItem',
    );
    this.timers.queue.grantSendMessages(this.coordinatorFn.role);
    this.queue.dlq.grantSendMessages(this.coordinatorFn.role);

    this.timerFn = new NodeFunction(this, 'TimerFn', {
      code: 'timers',
      description: 'Tandem timers: forwards due checks to the coordinator',
      timeout: timerTimeout,
      removalPolicy: props.removalPolicy,
      environment,
    });
    this.timerFn.consume(this.timers);
    grantTable(this.timerFn.role, this.transactions, 'dynamodb:GetItem');
    this.queue.queue.grantSendMessages(this.timerFn.role);
    this.timers.queue.grantSendMessages(this.timerFn.role);

    this.sweeperFn = new NodeFunction(this, 'SweeperFn', {
      code: 'sweeper',
      description: 'Tandem sweeper: re-drives transactions whose next check is due',
      timeout: Duration.seconds(50),
      removalPolicy: props.removalPolicy,
      environment,
    });
    const schedule = new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the Tandem sweeper every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sweeperFn.fn, { retryAttempts: 0 })],
    });
    addNagSuppressions(schedule, [
      {
        id: 'Serverless-EventBusDLQ',
        reason:
          'A missed sweep needs no replay: the sweeper is idempotent and the schedule fires again a minute later.',
      },
    ]);
    iam.Grant.addToPrincipal({
      grantee: this.sweeperFn.role,
      actions: ['dynamodb:Query'],
      resourceArns: [`${this.transactions.tableArn}/index/due`],
    });
    this.queue.queue.grantSendMessages(this.sweeperFn.role);

    if (props.faultsTable) {
      for (const fn of [this.coordinatorFn, this.timerFn, this.sweeperFn]) {
        grantTable(fn.role, props.faultsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
      }
    }
  }

  /** Routes the coordinator's Prepare/Commit/Abort for `participantId` to `inbox`. */
  addParticipant(participantId: string, inbox: SecureQueue): void {
    if (this.participantQueues[participantId]) throw new Error(`participant ${participantId} added twice`);
    this.participantQueues[participantId] = inbox.queue.queueUrl;
    this.inboxes.push(inbox);
    for (const grantee of [this.coordinatorFn.role, ...this.producers])
      inbox.queue.grantSendMessages(grantee);
  }

  /**
   * Lets `grantee` (the API, an intake) create and read transactions and start them: write the
   * record, send Prepare to every participant's inbox (now and added later), arm the first timer.
   * Its environment comes from `producerEnvironment()`. It sends nothing to the coordinator's
   * queue: only participants (their votes and acks) and the coordinator's own functions do.
   */
  grantProducer(grantee: iam.IGrantable): void {
    grantTable(grantee, this.transactions, 'dynamodb:GetItem', 'dynamodb:PutItem');
    this.timers.queue.grantSendMessages(grantee);
    for (const inbox of this.inboxes) inbox.queue.grantSendMessages(grantee);
    this.producers.push(grantee);
  }

  /**
   * The queues a producer (and the coordinator's own functions) send to: participant inboxes are
   * resolved at synth, so participants added later are included.
   */
  producerEnvironment(): Record<string, string> {
    return {
      TIMER_QUEUE_URL: this.timers.queue.queueUrl,
      PARTICIPANT_QUEUES: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.participantQueues) }),
    };
  }
}
