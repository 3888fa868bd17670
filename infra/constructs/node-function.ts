import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { builtLambdaCode, type LambdaCodeName } from '../lambda-code';
import { addNagSuppressions } from './nag';
import type { SecureQueue } from './secure-queue';

/**
 * A queue's visibility timeout must be at least this many times its consumer's timeout (AWS's
 * advice for SQS event sources: the poller may retry an invocation, throttled or failed, within
 * one visibility timeout). The coordinator also relies on it: a batch's hold (BatchHold) outlasts
 * the invocation that works on it.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface NodeFunctionProps {
  /** The function's pre-built code (infra/lambda-code.ts): its bundle exports `handler`. */
  readonly code: LambdaCodeName;
  readonly description: string;
  readonly environment?: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySizeMb?: number;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The one way Tandem creates a Lambda function: Node.js 22 on arm64, running a bundle that
 * `scripts/build.ts` made before synth (tree-shaken by esbuild, the AWS SDK included, so the code
 * that runs is the code that was tested; how it is bundled and why: dev/build.ts), JSON logs
 * into a log group with a retention, X-Ray tracing, and a role of its own that can write only its
 * own logs. Callers add permissions with `grant*` methods on the resources they use.
 */
export class NodeFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.seconds(10);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may write to
    // every log group of the account; this one writes to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new lambda.Function(this, 'Fn', {
      code: lambda.Code.fromAsset(builtLambdaCode(props.code)),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 512,
      timeout: this.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'tandem',
        ...props.environment,
      },
    });

    addNagSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; log ' +
            "stream ARNs are only known at run time, so the grant is on this function's own log group's streams.",
          appliesTo: [
            'Resource::*',
            {
              regex: `/^Resource::<${Stack.of(this).getLogicalId(this.logGroup.node.defaultChild as logs.CfnLogGroup)}.*\\.Arn>:\\*$/`,
            },
          ],
        },
      ],
      true,
    );
    const runtimeReason =
      'Tandem targets the nodejs22.x runtime on purpose (bundles are built and tested for Node 22).';
    addNagSuppressions(
      this.fn,
      [
        { id: 'AwsSolutions-L1', reason: runtimeReason },
        { id: 'Serverless-LambdaLatestVersion', reason: runtimeReason },
        {
          id: 'Serverless-LambdaDLQ',
          reason:
            'No Tandem function is invoked asynchronously except the sweeper: SQS-driven functions fail into their ' +
            "queue's redrive DLQ, the API is synchronous, and the sweeper is idempotent and runs again every minute.",
        },
      ],
      true,
    );
  }

  /**
   * Consumes `queue` with partial batch responses: a record that throws is retried alone, and a
   * message that keeps failing goes to the queue's redrive DLQ. Refuses a queue whose visibility
   * timeout is under VISIBILITY_TIMEOUT_FACTOR × this function's timeout.
   */
  consume(queue: SecureQueue, batchSize = 10): void {
    const visibilityS = queue.visibilityTimeout.toSeconds();
    const timeoutS = this.timeout.toSeconds();
    if (visibilityS < VISIBILITY_TIMEOUT_FACTOR * timeoutS) {
      throw new Error(
        `${queue.node.path}: visibility timeout ${visibilityS} s is under ${VISIBILITY_TIMEOUT_FACTOR} × the ${timeoutS} s timeout of its consumer ${this.node.path}`,
      );
    }
    this.fn.addEventSource(new SqsEventSource(queue.queue, { batchSize, reportBatchItemFailures: true }));
    addNagSuppressions(
      this.fn,
      [
        {
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason:
            "SQS event source mappings have no on-failure destination; a message that keeps failing goes to its queue's redrive DLQ.",
        },
      ],
      true,
    );
  }
}
