import { Annotations, Aspects, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { apiAuthEnvironment } from '../shared/api/auth';
import {
  ROUTE_KEYS,
  ROUTES,
  type RouteGrant,
  type RouteMethod,
  routesGranted,
  splitRouteKey,
} from '../shared/api/routes';
import { EVENT_SOURCE } from '../shared/events';
import { KEY_FIELD } from '../shared/intake/intake';
import { counterOperation, parseCounterSpec } from '../shared/participant/counter';
import type { CounterSpec } from '../shared/participant/counter-spec';
import type { ParticipantDefinition } from '../shared/participant/definition';
import {
  checkSpecs,
  encodeSpecs,
  type ParticipantSpec,
  participantIdsOf,
  participantSpec,
  SHARDS_MAX,
} from '../shared/registry';
import { Coordinator } from './constructs/coordinator';
import { DataTable, grantTable } from './constructs/data-table';
import { DeployGuard } from './constructs/deploy-guard';
import { EventsOut } from './constructs/events-out';
import { type HttpsEndpoint, HttpsParticipant } from './constructs/https-participant';
import { Intake } from './constructs/intake';
import { Monitoring } from './constructs/monitoring';
import { addNagSuppressions } from './constructs/nag';
import { NodeFunction } from './constructs/node-function';
import { Participant } from './constructs/participant';

/** Who may call the HTTP API. */
export type TandemAuth =
  /** AWS SigV4 (IAM): callers need `execute-api:Invoke`, e.g. through `grantSubmit`. The default. */
  | { readonly type: 'iam' }
  /** A JWT authorizer (Cognito, Auth0, …): an `https` issuer and the audiences it accepts. */
  | { readonly type: 'jwt'; readonly issuer: string; readonly audience: readonly string[] }
  /** No auth at all: for a local emulator only (the synth warns). */
  | { readonly type: 'none' };

export interface TandemApiProps {
  /** Default: IAM. */
  readonly auth?: TandemAuth;
  /** Origins a browser may call from (CORS); none by default. */
  readonly corsOrigins?: readonly string[];
}

/** Protocol timing; the defaults suit most deployments. */
export interface TandemTimings {
  /** An undecided transaction aborts after this (default 30 s). */
  readonly prepareTimeout?: Duration;
  /** Messages are re-sent after this, doubling up to `resendCap` (defaults 5 s and 60 s). */
  readonly resendBase?: Duration;
  readonly resendCap?: Duration;
  /** A coordinator's lease on a leader slot (default 30 s), and the clock skew it allows for (2 s). */
  readonly leaseDuration?: Duration;
  readonly leaseSkewMargin?: Duration;
}

export interface TandemProps {
  /** The HTTP API (`POST /transactions`, …); `false` for none. Default: an API with IAM auth. */
  readonly api?: TandemApiProps | false;
  /** Leader slots transactions are spread over (1–1,024, default 64). Fixed once deployed. */
  readonly slots?: number;
  readonly timings?: TandemTimings;
  /** Announce every outcome on an EventBridge bus (default true). */
  readonly events?: boolean;
  /** Commit a transaction whose participants are all counters in one atomic write (default true). */
  readonly onePhase?: boolean;
  /** Tables' encryption: AWS-managed (default), a customer-managed key made here, or yours. */
  readonly encryption?: 'aws-managed' | 'customer-managed' | kms.IKey;
  /**
   * What happens to Tandem's tables, queues and logs when they leave the stack. Default RETAIN,
   * with deletion protection on the tables; DESTROY for throw-away stacks.
   */
  readonly removalPolicy?: RemovalPolicy;
  /** For Tandem's own test deployments: fault plans (crash, drop and conflict points). */
  readonly testing?: { readonly faults?: boolean };
}

/** A participant of Tandem: Tandem's built-in counter, or the team's own function. */
export interface AddParticipantOptions {
  /** Tandem's built-in counter participant (balances, stock), which needs no code of yours. */
  readonly counter?: CounterSpec;
  /**
   * Your participant: its definition (`defineParticipant` of `tandem/participant`), whose operation
   * schema is registered with the API, and `handler`, your function running it.
   */
  readonly definition?: Pick<ParticipantDefinition, 'operation' | 'itemKey'>;
  /**
   * Your function, bundled your usual way, whose handler is `participantHandler(definition)`;
   * Tandem sets its environment, feeds it its inbox and grants what the protocol needs. For a
   * sharded participant, a function of the shard number that makes one function per shard.
   */
  readonly handler?: lambda.Function | ((shard: number) => lambda.Function);
  /**
   * Instead of `handler`: your HTTPS service speaking the try/confirm/cancel contract
   * (docs/https-participants.md). Tandem's relay function calls it for each message; with HMAC
   * auth, the participant's `https.secret` holds the key it signs with.
   */
  readonly https?: HttpsEndpoint;
  /** Spread over this many participants `<name>-0` … (default: one, named `<name>`). Fixed once deployed. */
  readonly shards?: number;
  /** The operation field whose value picks the shard (a counter's id field by default). */
  readonly shardKey?: string;
}

/** Where an intake finds each request's idempotency key, instead of its default. */
export interface IntakeKey {
  /** Dotted path of the field holding it: in the event (`detail.orderId`), or in a queue's request. */
  readonly field: string;
}

/** Transactions started by EventBridge events (`addEventIntake`). */
export interface AddEventIntakeOptions {
  /** The bus whose events start transactions (default: the account's default bus). */
  readonly eventBus?: events.IEventBus;
  /** Which events: the rule's pattern (e.g. `{ source: ['shop'], detailType: ['OrderPlaced'] }`). */
  readonly eventPattern: events.EventPattern;
  /**
   * Your function, bundled your usual way, whose handler is `eventIntakeHandler(map)` of
   * `tandem/intake`: `map` makes each event a transaction request. Tandem sets its environment,
   * feeds it the intake's queue and grants what it needs. Without it, Tandem's own intake function
   * takes each event's `detail` as the request.
   */
  readonly handler?: lambda.Function;
  /**
   * Where each event's idempotency key is (default: the event's `id`, so EventBridge's at-least-once
   * delivery starts one transaction). A request's own `idempotencyKey` comes first either way.
   */
  readonly key?: IntakeKey;
}

/** Transactions started by messages whose bodies are requests (`addRequestQueue`). */
export interface AddRequestQueueOptions {
  /**
   * A FIFO queue: requests of one message group start in order, and each message's key is its
   * MessageDeduplicationId (content-based by default). Default: a standard queue.
   */
  readonly fifo?: boolean;
  /**
   * A standard queue's key field in each request (default: the SQS message id, which a sender's
   * retry does not keep). A request's own `idempotencyKey` comes first either way.
   */
  readonly key?: IntakeKey;
}

/** What `addParticipant` made: one Participant per shard (or one). */
export interface TandemParticipant {
  readonly name: string;
  readonly spec: ParticipantSpec;
  readonly shards: readonly Participant[];
  /** The HTTPS participant (with `https`; then `shards` is empty). */
  readonly https?: HttpsParticipant;
}

/**
 * Bytes of the API function's environment the participants' specs may take: Lambda allows 4 KB for
 * all variables; the rest (table names, queue URLs, settings) takes about 1.5 KB with ten participants.
 */
const SPECS_ENVIRONMENT_MAX = 2_400;

const NO_PARTICIPANTS = 'Tandem has no participants: add at least one with addParticipant()';

/** A participant name: what operations use in `participant`. */
const NAME = /^[a-z][a-z0-9-]{0,47}$/;

/**
 * Tandem, in your stack: the coordinator (transaction log, leader slots, queues and functions),
 * the HTTP API, events out, the deploy guard and the alarms — and the participants and intakes
 * (transactions started by EventBridge events or by a queue of requests) you add.
 *
 * ```ts
 * const tandem = new Tandem(this, 'Tandem');
 * tandem.addParticipant('ledger', { counter: { entity: 'account', quantity: 'funds', idField: 'accountId',
 *   amountField: 'amount', actions: { debit: 'take', credit: 'give' } }, shards: 2 });
 * tandem.addParticipant('seats', { definition: seats, handler: seatsFunction });
 * tandem.grantSubmit(checkoutFunction);
 * tandem.addEventIntake('orders', { eventPattern: { source: ['shop'], detailType: ['OrderPlaced'] } });
 * tandem.addRequestQueue('requests', { fifo: true }).grantSendMessages(checkoutFunction);
 * ```
 */
export class Tandem extends Construct {
  readonly coordinator: Coordinator;
  readonly deployGuard: DeployGuard;
  readonly monitoring: Monitoring;
  /** The HTTP API; absent with `api: false`. */
  readonly api: apigw.HttpApi | undefined;
  /** The API's function; absent with `api: false`. */
  readonly apiFunction: NodeFunction | undefined;
  /** The authorizer of the API's protected routes (none with auth `none`), for routes you add. */
  readonly apiAuthorizer: apigw.IHttpRouteAuthorizer | undefined;
  /** Where outcomes are announced; absent with `events: false`. */
  readonly eventBus: events.EventBus | undefined;
  readonly eventsOut: EventsOut | undefined;
  /** The Faults table of a test deployment (`testing.faults`). */
  readonly faultsTable: dynamodb.Table | undefined;
  readonly participants: TandemParticipant[] = [];
  /** The event intakes and requests queues added (`addEventIntake`, `addRequestQueue`). */
  readonly intakes: Intake[] = [];
  /** Every function that submits transactions (the API's, the intakes'): counters' tables are granted to each. */
  private readonly producers: iam.IGrantable[] = [];
  private readonly slotCount: number;
  private readonly timings: CoordinatorTimings;
  private readonly removalPolicy: RemovalPolicy;
  private readonly encryptionKey: kms.IKey | undefined;
  private readonly onePhase: boolean;

  constructor(scope: Construct, id: string, props: TandemProps = {}) {
    super(scope, id);
    const slots = props.slots ?? 64;
    if (!Number.isInteger(slots) || slots < 1 || slots > 1024) {
      throw new Error(`Tandem: slots must be an integer from 1 to 1024, got ${slots}`);
    }
    const timings = checkTimings(props.timings ?? {});
    this.slotCount = slots;
    this.timings = timings;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retain = this.removalPolicy === RemovalPolicy.RETAIN;
    this.encryptionKey =
      props.encryption === 'customer-managed'
        ? new kms.Key(this, 'TablesKey', {
            description: 'Tandem tables (customer-managed)',
            enableKeyRotation: true,
            removalPolicy: this.removalPolicy,
          })
        : props.encryption === 'aws-managed' || props.encryption === undefined
          ? undefined
          : props.encryption;
    const stateful = {
      removalPolicy: this.removalPolicy,
      deletionProtection: retain,
      encryptionKey: this.encryptionKey,
    };
    this.onePhase = props.onePhase ?? true;

    this.faultsTable = props.testing?.faults
      ? new DataTable(this, 'Faults', {
          partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
          removalPolicy: RemovalPolicy.DESTROY,
          deletionProtection: false,
        }).table
      : undefined;

    this.eventBus =
      (props.events ?? true)
        ? new events.EventBus(this, 'Events', {
            description: 'Tandem transaction outcomes (TransactionCommitted, TransactionAborted)',
          })
        : undefined;

    this.coordinator = new Coordinator(this, 'Coordinator', {
      stream: this.eventBus !== undefined,
      slotCount: slots,
      ...timings,
      ...(this.faultsTable ? { faultsTable: this.faultsTable } : {}),
      ...stateful,
    });

    // Refuses a later deploy that changes a shard count or removes a participant; every resource of
    // this construct waits for its answer (see guardEverythingIn, on synthesis).
    this.deployGuard = new DeployGuard(this, 'DeployGuard', {
      removalPolicy: this.removalPolicy,
      settings: () => {
        if (this.participants.length === 0) throw new Error(NO_PARTICIPANTS);
        return {
          shards: Object.fromEntries(
            this.participants.filter((p) => p.spec.shards).map((p) => [p.name, p.spec.shards!.count]),
          ),
          participants: this.participants.flatMap((p) => participantIdsOf(p.spec)),
        };
      },
    });

    this.eventsOut = this.eventBus
      ? new EventsOut(this, 'EventsOut', {
          transactions: this.coordinator.transactions,
          bus: this.eventBus,
          removalPolicy: this.removalPolicy,
        })
      : undefined;

    const api = props.api === false ? undefined : this.httpApi(props.api ?? {});
    this.api = api?.api;
    this.apiFunction = api?.fn;
    this.apiAuthorizer = api?.authorizer;

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: {
        ...(this.apiFunction ? { api: this.apiFunction } : {}),
        coordinator: this.coordinator.coordinatorFn,
        timers: this.coordinator.timerFn,
        sweeper: this.coordinator.sweeperFn,
        'deploy-guard': this.deployGuard.handler,
        ...(this.eventsOut ? { events: this.eventsOut.fn } : {}),
      },
      ...(this.eventsOut ? { eventsOut: this.eventsOut } : {}),
      queues: { coordinator: this.coordinator.queue, timers: this.coordinator.timers },
      inDoubtAlarmAfter: Duration.minutes(5),
    });

    // On synthesis, every resource of Tandem but the guard's own waits for the guard's answer, so
    // a refused deploy changes none of them (participants added after this line are covered too).
    Aspects.of(this).add({
      visit: (node) => {
        if (node === this) this.deployGuard.guardEverythingIn(this);
      },
    });

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (this.participants.length === 0) {
          errors.push(NO_PARTICIPANTS);
        }
        try {
          const encoded = encodeSpecs(checkSpecs(this.participants.map((p) => p.spec)));
          if (encoded.length > SPECS_ENVIRONMENT_MAX) {
            errors.push(
              `Tandem: the participants' operation schemas take ${encoded.length} bytes (compressed) of the API function's environment, more than the ${SPECS_ENVIRONMENT_MAX} Tandem leaves them of Lambda's 4 KB: make the schemas smaller (fewer descriptions, shorter patterns), or split the participants over two Tandems`,
            );
          }
        } catch (error) {
          errors.push(`Tandem: ${(error as Error).message}`);
        }
        return errors;
      },
    });
  }

  /**
   * Adds a participant named `name` (what operations use in `participant`): Tandem's built-in
   * counter (`counter`), or your own (`definition` and `handler`). Its operation schema is
   * registered with the API, which validates requests against it (a 400 naming the field before
   * anything is written) and describes it in its OpenAPI document. Each participant (or shard) gets
   * its own table (its barriers; your data too, if you like), an inbox queue with a DLQ, alarms,
   * and the grants the protocol needs.
   */
  addParticipant(name: string, options: AddParticipantOptions): TandemParticipant {
    if (!NAME.test(name)) {
      throw new Error(
        `Tandem: participant name '${name}' must be 1–48 characters: a lower-case letter, then a-z 0-9 -`,
      );
    }
    if (this.participants.some((p) => p.name === name)) {
      throw new Error(`Tandem: participant '${name}' is added twice: give each participant its own name`);
    }
    const { counter, definition, handler, https } = options;
    if ((counter === undefined) === (definition === undefined)) {
      throw new Error(
        `Tandem: participant '${name}' needs either \`counter\` (Tandem's built-in counter) or \`definition\` and \`handler\` (your own), not ${counter ? 'both' : 'neither'}`,
      );
    }
    if (https !== undefined) {
      if (counter) {
        throw new Error(
          `Tandem: participant '${name}' is a counter, which runs Tandem's own function: leave out https`,
        );
      }
      if (handler) {
        throw new Error(
          `Tandem: participant '${name}' has both a handler and https: give handler for a Lambda participant, or https for an HTTPS one`,
        );
      }
      if (options.shards !== undefined || options.shardKey !== undefined) {
        throw new Error(
          `Tandem: participant '${name}' is an HTTPS participant, which has no shards: leave out shards and shardKey`,
        );
      }
    }
    if (definition && !handler && !https) {
      throw new Error(
        `Tandem: participant '${name}' has a definition but no handler: give the function whose handler is participantHandler(definition), or https for an HTTPS participant`,
      );
    }
    if (counter && handler) {
      throw new Error(
        `Tandem: participant '${name}' is a counter, which runs Tandem's own function: leave out handler`,
      );
    }
    const shards = options.shards;
    if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > SHARDS_MAX)) {
      throw new Error(
        `Tandem: participant '${name}' shards must be an integer from 1 to ${SHARDS_MAX}, got ${shards}`,
      );
    }
    if (shards !== undefined && shards > 1 && handler !== undefined && typeof handler !== 'function') {
      throw new Error(
        `Tandem: participant '${name}' has ${shards} shards but one function: give handler as (shard) => function, one per shard`,
      );
    }
    let checkedCounter: CounterSpec | undefined;
    try {
      checkedCounter = counter ? parseCounterSpec(counter, `participant '${name}' counter`) : undefined;
    } catch (error) {
      throw new Error(`Tandem: ${(error as Error).message}`);
    }
    let spec: ParticipantSpec;
    try {
      spec = participantSpec(
        name,
        checkedCounter
          ? {
              operation: counterOperation(checkedCounter),
              itemKey: [checkedCounter.idField],
              counter: checkedCounter,
            }
          : definition!,
        {
          ...(shards !== undefined ? { shards } : {}),
          ...(options.shardKey ? { shardKey: options.shardKey } : {}),
        },
      );
    } catch (error) {
      throw new Error(`Tandem: ${(error as Error).message}`);
    }
    if (https !== undefined) {
      const participant = new HttpsParticipant(this, constructIdOf(name), {
        participantId: name,
        endpoint: https,
        coordinator: this.coordinator,
        removalPolicy: this.removalPolicy,
        ...(this.encryptionKey ? { encryptionKey: this.encryptionKey } : {}),
      });
      this.monitoring.addQueue(name, participant.inbox);
      this.monitoring.addFunction(name, participant.relay);
      this.monitoring.addRelay(name, participant);
      const added: TandemParticipant = { name, spec, shards: [], https: participant };
      this.participants.push(added);
      return added;
    }
    const shardParticipants = participantIdsOf(spec).map((participantId, shard) => {
      const fn = typeof handler === 'function' && !('functionArn' in handler) ? handler(shard) : handler;
      const participant = new Participant(this, constructIdOf(participantId), {
        participantId,
        kind: name,
        coordinator: this.coordinator,
        removalPolicy: this.removalPolicy,
        deletionProtection: this.removalPolicy === RemovalPolicy.RETAIN,
        encryptionKey: this.encryptionKey,
        ...(this.faultsTable ? { faultsTable: this.faultsTable } : {}),
        ...(checkedCounter ? { counter: checkedCounter } : { handler: fn as lambda.Function }),
      });
      this.monitoring.addQueue(participantId, participant.inbox);
      this.monitoring.addFunction(participantId, participant.fn);
      if (checkedCounter) {
        for (const producer of this.producers) this.grantCounter(producer, participant);
      }
      return participant;
    });
    const added: TandemParticipant = { name, spec, shards: shardParticipants };
    this.participants.push(added);
    return added;
  }

  /**
   * Starts a transaction for every event on `eventBus` that matches `eventPattern`. A rule sends the
   * events to the intake's queue (the durable buffer; EventBridge's undeliverable events go to its
   * DLQ), whose function validates each request exactly as `POST /transactions` does and starts it
   * ONCE per key (by default the event's id), however often the event is delivered. A request that
   * can never succeed (a mapping that throws, invalid, an unknown participant or entity, a key reused
   * with another request) goes to the DLQ at once with its reason (`npm run ops -- dlq show
   * intake-<id>`); transient failures are retried first. The outcome event carries `origin`
   * (`events:<id>`, the key and the event's id).
   */
  addEventIntake(id: string, options: AddEventIntakeOptions): Intake {
    this.checkIntake(id, options.key);
    if (Object.keys(options.eventPattern).length === 0) {
      throw new Error(
        `Tandem: event intake '${id}' needs an eventPattern with at least one field (e.g. source), or every event on the bus would start a transaction`,
      );
    }
    const { handler } = options;
    if (
      handler &&
      (this.intakes.some((intake) => intake.fn === handler) ||
        this.participants.some((p) => p.shards.some((shard) => shard.fn === handler)))
    ) {
      throw new Error(
        `Tandem: event intake '${id}' is given a function that already runs another intake or a participant: each needs its own function (its environment says which it is)`,
      );
    }
    const construct = this.intakeConstructId(id);
    const bus = options.eventBus ?? events.EventBus.fromEventBusName(this, `${construct}Bus`, 'default');
    return this.addIntake(construct, {
      intakeId: id,
      kind: 'events',
      events: { bus, pattern: options.eventPattern },
      ...(options.handler ? { handler: options.handler } : {}),
      ...(options.key ? { keyField: options.key.field } : {}),
    });
  }

  /**
   * Makes a queue whose messages are transaction requests (exactly the body of `POST
   * /transactions`) and starts one transaction per key — a FIFO message's deduplication id, else the
   * `key` field of the request, else the message id. Validation, the DLQ with reasons and `origin`
   * (`queue:<id>`) as for `addEventIntake`. Returns the queue: `grantSendMessages` it to senders.
   */
  addRequestQueue(id: string, options: AddRequestQueueOptions = {}): sqs.Queue {
    this.checkIntake(id, options.key);
    if (options.fifo && options.key) {
      throw new Error(
        `Tandem: requests queue '${id}' is FIFO, whose key is each message's MessageDeduplicationId (content-based unless the sender gives one): leave out key, or make it a standard queue`,
      );
    }
    return this.addIntake(this.intakeConstructId(id), {
      intakeId: id,
      kind: 'queue',
      ...(options.fifo ? { fifo: true } : {}),
      ...(options.key ? { keyField: options.key.field } : {}),
    }).queue;
  }

  private checkIntake(id: string, key: IntakeKey | undefined): void {
    if (!NAME.test(id)) {
      throw new Error(
        `Tandem: intake id '${id}' must be 1–48 characters: a lower-case letter, then a-z 0-9 -`,
      );
    }
    if (this.intakes.some((intake) => intake.intakeId === id)) {
      throw new Error(
        `Tandem: intake '${id}' is added twice: give each event intake and requests queue its own id`,
      );
    }
    if (key !== undefined && !KEY_FIELD.test(key.field)) {
      throw new Error(
        `Tandem: intake '${id}' key.field '${key.field}' must be a dotted path of names or indexes (e.g. detail.orderId)`,
      );
    }
  }

  private intakeConstructId(id: string): string {
    return `Intake${constructIdOf(id)}`;
  }

  private addIntake(
    constructId: string,
    props: Omit<ConstructorParameters<typeof Intake>[2], 'producerEnvironment' | 'removalPolicy'>,
  ): Intake {
    const intake = new Intake(this, constructId, {
      ...props,
      producerEnvironment: this.producerEnvironment(),
      removalPolicy: this.removalPolicy,
    });
    this.grantProducer(intake.fn);
    const name = `intake-${props.intakeId}`;
    this.monitoring.addQueue(name, intake.inbox);
    this.monitoring.addFunction(name, intake.fn);
    this.intakes.push(intake);
    return intake;
  }

  /**
   * What a producer (the API, an intake) needs: the transactions table and the coordinator's and
   * participants' queues, and the counters' tables (entity check, one-phase commit) — of the
   * counters added so far and of those added later.
   */
  private grantProducer(grantee: iam.IGrantable): void {
    this.coordinator.grantProducer(grantee);
    for (const participant of this.participants) {
      if (!participant.spec.counter) continue;
      for (const shard of participant.shards) this.grantCounter(grantee, shard);
    }
    this.producers.push(grantee);
  }

  /** A producer checks that a counter's entities exist, and writes them on the one-phase path. */
  private grantCounter(grantee: iam.IGrantable, participant: Participant): void {
    grantTable(
      grantee,
      participant.table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:BatchGetItem',
      ...(this.onePhase ? ['dynamodb:UpdateItem'] : []),
    );
  }

  /**
   * The environment of every producer function (the API's, the intakes'): the participants' specs
   * and counters' tables (registered on synthesis: participants may be added later), the tables,
   * queues and protocol settings.
   */
  private producerEnvironment(): Record<string, string> {
    const coordinator = this.coordinator;
    const timings = this.timings;
    return {
      TANDEM_PARTICIPANTS: Lazy.string({
        produce: () => encodeSpecs(checkSpecs(this.participants.map((p) => p.spec))),
      }),
      COUNTER_TABLES: Lazy.string({
        produce: () =>
          Stack.of(this).toJsonString(
            Object.fromEntries(
              this.participants
                .filter((p) => p.spec.counter)
                .flatMap((p) => p.shards.map((s) => [s.participantId, s.table.tableName])),
            ),
          ),
      }),
      TRANSACTIONS_TABLE: coordinator.transactions.tableName,
      SLOTS_TABLE: coordinator.slots.tableName,
      ...coordinator.producerEnvironment(),
      SLOT_COUNT: String(this.slotCount),
      PREPARE_TIMEOUT_MS: String(timings.prepareTimeoutMs),
      RESEND_BASE_MS: String(timings.resendBaseMs),
      RESEND_CAP_MS: String(timings.resendCapMs),
      ONE_PHASE: this.onePhase ? 'on' : 'off',
    };
  }

  /** Lets `grantee` submit transactions through the API (IAM auth: `execute-api:Invoke`). */
  grantSubmit(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, 'submit');
  }

  /** Lets `grantee` read transactions through the API (IAM auth: `execute-api:Invoke`). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, 'read');
  }

  /**
   * Routes outcomes to `target`: every outcome, or only `COMMITTED` or `ABORTED` ones, optionally
   * only of transactions a participant named `participant` took part in.
   */
  onOutcome(
    id: string,
    target: events.IRuleTarget,
    options: { readonly outcome?: 'COMMITTED' | 'ABORTED'; readonly participant?: string } = {},
  ): events.Rule {
    if (!this.eventBus)
      throw new Error('Tandem: onOutcome needs events (the construct was made with events: false)');
    const detailType =
      options.outcome === undefined
        ? ['TransactionCommitted', 'TransactionAborted']
        : [options.outcome === 'COMMITTED' ? 'TransactionCommitted' : 'TransactionAborted'];
    return new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: `Tandem outcomes${options.outcome ? ` (${options.outcome})` : ''}${options.participant ? ` with ${options.participant}` : ''}`,
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType,
        ...(options.participant ? { detail: { participants: { kind: [options.participant] } } } : {}),
      },
      targets: [target],
    });
  }

  /**
   * Adds a route of your own (`POST /reports`) to the API, with your integration, behind the
   * stage's authorizer like every route of Tandem's but `/health` and `/openapi.json`.
   */
  addApiRoute(
    routeKey: `${RouteMethod} /${string}`,
    integration: apigw.HttpRouteIntegration,
  ): apigw.HttpRoute[] {
    if (!this.api)
      throw new Error('Tandem: there is no API to add a route to (the construct was made with api: false)');
    return addRoute(this.api, routeKey, integration, this.apiAuthorizer);
  }

  /** The API's base URL (absent with `api: false`). */
  get url(): string | undefined {
    return this.api?.apiEndpoint;
  }

  /** `execute-api:Invoke` on the routes the table (shared/api/routes.ts) lists under `grant`. */
  private grantRoutes(grantee: iam.IGrantable, grant: RouteGrant): iam.Grant {
    if (!this.api)
      throw new Error('Tandem: there is no API to grant access to (the construct was made with api: false)');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: routesGranted(grant).map((route) => {
        const { method, path } = splitRouteKey(route);
        return this.api!.arnForExecuteApi(method, path.replace(/\{[^}]+\}/g, '*'), '$default');
      }),
    });
  }

  private httpApi(props: TandemApiProps) {
    const auth = props.auth ?? { type: 'iam' };
    if (auth.type === 'jwt' && (!/^https:\/\//.test(auth.issuer) || auth.audience.length === 0)) {
      throw new Error("Tandem: api auth 'jwt' needs an https issuer and at least one audience");
    }
    if (auth.type === 'none') {
      Annotations.of(this).addWarning(
        'Tandem: the API has no auth (api.auth none): anyone who can reach it can start transactions. Use it on a local emulator only.',
      );
    }
    for (const origin of props.corsOrigins ?? []) {
      if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
        throw new Error(
          `Tandem: api corsOrigins must list origins like https://app.example.com, got '${origin}'`,
        );
      }
    }
    const fn = new NodeFunction(this, 'Api', {
      code: 'api',
      description: 'Tandem HTTP API (producer)',
      removalPolicy: this.removalPolicy,
      timeout: Duration.seconds(29),
      // The auth too, so that GET /openapi.json declares what the stage's authorizer checks.
      environment: { ...this.producerEnvironment(), ...apiAuthEnvironment(auth) },
    });
    this.grantProducer(fn.role);

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: this.removalPolicy,
    });
    const corsOrigins = props.corsOrigins ?? [];
    const api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Tandem: atomic multi-service transactions',
      createDefaultStage: false,
      ...(corsOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: [...corsOrigins],
              allowMethods: [
                apigw.CorsHttpMethod.GET,
                apigw.CorsHttpMethod.POST,
                apigw.CorsHttpMethod.OPTIONS,
              ],
              allowHeaders: [
                'content-type',
                'authorization',
                'idempotency-key',
                'x-amz-date',
                'x-amz-security-token',
              ],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', fn.fn, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    // Writes are throttled harder than reads, per route, under the stage-wide limit.
    // (RouteSettings is a free-form map in the L1 type, so it is set as raw CloudFormation.)
    (stage.node.defaultChild as apigw.CfnStage).addPropertyOverride(
      'RouteSettings',
      Object.fromEntries(
        ROUTE_KEYS.filter((route) => route.startsWith('POST ')).map((route) => [
          route,
          { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
        ]),
      ),
    );
    const authorizer =
      auth.type === 'iam'
        ? new HttpIamAuthorizer()
        : auth.type === 'jwt'
          ? new HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, { jwtAudience: [...auth.audience] })
          : undefined;
    for (const route of ROUTE_KEYS)
      addRoute(api, route, integration, ROUTES[route].public ? undefined : authorizer);
    // Every other request — an unknown path, a method a path does not take — reaches the function
    // too, which answers it as a problem document (404, or 405 with Allow) from the same route table.
    // It is public, so that an unsigned request to a path that does not exist is a 404 like any
    // other; it runs no route and reads nothing.
    const fallback = new apigw.HttpRoute(this, 'DefaultRoute', {
      httpApi: api,
      routeKey: apigw.HttpRouteKey.DEFAULT,
      integration,
    });
    addNagSuppressions(
      [fallback],
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'The $default route only answers 404 or 405 problem documents for requests no route matches; it runs no route and reads no data.',
        },
      ],
    );
    return { api, fn, authorizer };
  }
}

/**
 * Adds `routeKey` to `api`, behind `authorizer` (none: the route is public, or the stage has no
 * auth — each said to cdk-nag).
 */
function addRoute(
  api: apigw.HttpApi,
  routeKey: string,
  integration: apigw.HttpRouteIntegration,
  authorizer: apigw.IHttpRouteAuthorizer | undefined,
): apigw.HttpRoute[] {
  const { method, path } = splitRouteKey(routeKey);
  const added = api.addRoutes({ path, methods: [apigw.HttpMethod[method]], integration, authorizer });
  if (!authorizer) {
    const isPublic = Object.hasOwn(ROUTES, routeKey) && ROUTES[routeKey as keyof typeof ROUTES].public;
    addNagSuppressions(added, [
      {
        id: 'AwsSolutions-APIG4',
        reason: isPublic
          ? `${routeKey} is public on purpose (liveness probe / API description) and returns no data.`
          : 'Deployed with api auth none on purpose (a local emulator stack); every other deployment signs its requests.',
      },
    ]);
  }
  return added;
}

/** A construct id for a participant id (`ledger-0` → `Ledger0`, `seats` → `Seats`). */
function constructIdOf(participantId: string): string {
  return participantId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

interface CoordinatorTimings {
  readonly prepareTimeoutMs: number;
  readonly resendBaseMs: number;
  readonly resendCapMs: number;
  readonly leaseDurationMs: number;
  readonly leaseSkewMarginMs: number;
}

/** The timings in ms, checked (a readable error for any that cannot work). */
function checkTimings(timings: TandemTimings): CoordinatorTimings {
  const ms = (duration: Duration | undefined, fallback: number, name: string, min: number, max: number) => {
    const value = duration?.toMilliseconds() ?? fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`Tandem: timings.${name} must be from ${min} ms to ${max} ms, got ${value} ms`);
    }
    return value;
  };
  const hour = 3_600_000;
  const checked = {
    prepareTimeoutMs: ms(timings.prepareTimeout, 30_000, 'prepareTimeout', 1_000, hour),
    resendBaseMs: ms(timings.resendBase, 5_000, 'resendBase', 100, hour),
    resendCapMs: ms(timings.resendCap, 60_000, 'resendCap', 100, hour),
    leaseDurationMs: ms(timings.leaseDuration, 30_000, 'leaseDuration', 1_000, hour),
    leaseSkewMarginMs: ms(timings.leaseSkewMargin, 2_000, 'leaseSkewMargin', 0, 60_000),
  };
  if (checked.resendCapMs < checked.resendBaseMs)
    throw new Error('Tandem: timings.resendCap must be ≥ resendBase');
  if (checked.leaseDurationMs <= 2 * checked.leaseSkewMarginMs) {
    throw new Error('Tandem: timings.leaseDuration must exceed 2 × leaseSkewMargin');
  }
  return checked;
}
