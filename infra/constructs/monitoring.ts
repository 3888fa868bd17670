import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EventsOut } from './events-out';
import { NodeFunction } from './node-function';
import type { SecureQueue } from './secure-queue';

export const METRICS_NAMESPACE = 'Tandem';

export interface MonitoringProps {
  /** Short name (e.g. `api`, `ledger-0`) → function. */
  readonly functions: Readonly<Record<string, NodeFunction | lambda.IFunction>>;
  /** Queue name (e.g. `coordinator`, `ledger-0`) → the queue and its DLQ. */
  readonly queues: Readonly<Record<string, SecureQueue>>;
  /** Alarm when the sweeper finds a transaction overdue by more than this. */
  readonly inDoubtAlarmAfter: Duration;
  /** Events out, when the deployment announces outcomes. */
  readonly eventsOut?: EventsOut;
}

/** Alarm when the events function's stream position is older than this (outcomes announced late). */
const EVENTS_LATE_AFTER = Duration.minutes(15);

/**
 * What an operator watches: one SNS topic for every alarm (any DLQ not empty, a transaction in
 * doubt for too long, function errors, throttles, events out late or giving up) and a dashboard of
 * outcomes, latencies, queues and functions.
 */
export class Monitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: SnsAction;
  private readonly dlqWidget: cloudwatch.GraphWidget;
  private readonly functionsWidget: cloudwatch.GraphWidget;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: 'Tandem alarms',
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    this.action = new SnsAction(this.alarmTopic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => this.alarm(alarmId, alarmProps);
    this.dlqWidget = new cloudwatch.GraphWidget({ title: 'Dead-letter queues', width: 8 });
    this.functionsWidget = new cloudwatch.GraphWidget({ title: 'Function errors and throttles', width: 24 });

    for (const [name, queue] of Object.entries(props.queues)) this.addQueue(name, queue);

    const metric = (metricName: string, service: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: Duration.minutes(1),
      });
    const oldestInDoubt = metric('OldestInDoubtAgeMs', 'sweeper', 'Maximum');
    alarm('InDoubtTooLong', {
      alarmDescription: `A transaction has been overdue for its next check for more than ${props.inDoubtAlarmAfter.toHumanString()} (npm run ops -- stuck).`,
      metric: oldestInDoubt,
      threshold: props.inDoubtAlarmAfter.toMilliseconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.eventsOut) {
      this.notEmpty(
        'EventsGivenUp',
        'Events out gave up on a stream batch: its outcomes were not announced. Put them again (npm run ops -- events republish --from-dlq).',
        props.eventsOut.failed,
      );
      alarm('EventsLate', {
        alarmDescription: `Events out is more than ${EVENTS_LATE_AFTER.toHumanString()} behind the transactions stream (see the events function's logs).`,
        metric: props.eventsOut.fn.fn.metric('IteratorAge', {
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: EVENTS_LATE_AFTER.toMilliseconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const coordinatorMetric = (name: string, statistic = 'Sum') => metric(name, 'coordinator', statistic);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Transactions',
        left: [
          metric('TransactionsStarted', 'api', 'Sum'),
          coordinatorMetric('TransactionsCommitted'),
          coordinatorMetric('TransactionsAborted'),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Latency (ms)',
        left: [
          coordinatorMetric('TransactionLatencyMs', 'p50'),
          coordinatorMetric('TransactionLatencyMs', 'p99'),
          coordinatorMetric('PreparePhaseMs', 'p99'),
          coordinatorMetric('CompletionPhaseMs', 'p99'),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest overdue transaction (ms)',
        left: [oldestInDoubt],
        width: 8,
      }),
      this.dlqWidget,
      new cloudwatch.GraphWidget({
        title: 'Redeliveries and failed effects',
        left: [
          coordinatorMetric('Redeliveries'),
          coordinatorMetric('EffectFailures'),
          coordinatorMetric('DlqArrivals'),
        ],
        width: 8,
      }),
      this.functionsWidget,
    );
    for (const [name, fn] of Object.entries(props.functions)) this.addFunction(name, fn);
  }

  /** Alarms when `queue`'s DLQ holds a message, and graphs its depth. */
  addQueue(name: string, queue: SecureQueue): void {
    this.notEmpty(
      `${name}DlqNotEmpty`,
      `The ${name} dead-letter queue holds messages: inspect and redrive them (npm run ops -- dlq show ${name}).`,
      queue.dlq,
    );
    this.dlqWidget.addLeftMetric(queue.dlq.metricApproximateNumberOfMessagesVisible());
  }

  /**
   * Watches an HTTPS participant's relay: alarms when its confirms and cancels given up on reach
   * `alarmAfter` in a period (the endpoint is down while a decision waits for it), and puts its
   * graphs on the dashboard. Its inbox and function are added with addQueue and addFunction.
   */
  addRelay(
    name: string,
    relay: {
      readonly finishGiveUps: cloudwatch.IMetric;
      readonly alarmAfter: number;
      widgets(): cloudwatch.IWidget[];
    },
  ): void {
    this.alarm(`${name}RelayGiveUps`, {
      alarmDescription: `The ${name} relay gave up on ${relay.alarmAfter} or more confirms or cancels in a period: the endpoint does not answer while decided transactions wait for it (npm run ops -- stuck).`,
      metric: relay.finishGiveUps,
      threshold: relay.alarmAfter,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.dashboard.addWidgets(...relay.widgets());
  }

  private notEmpty(alarmId: string, alarmDescription: string, queue: sqs.IQueue): void {
    this.alarm(alarmId, {
      alarmDescription,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Alarms on `fn`'s errors and throttles, and graphs them. */
  addFunction(name: string, function_: NodeFunction | lambda.IFunction): void {
    const fn = function_ instanceof NodeFunction ? function_.fn : function_;
    for (const [what, metric] of [
      ['Errors', fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })],
      ['Throttles', fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' })],
    ] as const) {
      this.alarm(`${name}${what}`, {
        alarmDescription: `${name} function ${what.toLowerCase()}`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.functionsWidget.addLeftMetric(fn.metricErrors());
    this.functionsWidget.addRightMetric(fn.metricThrottles());
  }

  private alarm(alarmId: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, alarmId, props);
    created.addAlarmAction(this.action);
    this.alarms.push(created);
    return created;
  }
}
