import { CustomResource, Duration, Lazy, type RemovalPolicy } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import {
  DEPLOY_GUARD_TYPE,
  type DeployGuardProperties,
  type FixedSettings,
  guardProperties,
  parseProperties,
} from '../../shared/deploy-guard';
import { NodeFunction } from './node-function';

export interface DeployGuardProps {
  /**
   * What a later deploy may not change: each sharded participant's shard count and every participant
   * id. A function is called once, at synth, so participants added to the app after the guard was
   * created are covered too.
   */
  readonly settings: FixedSettings | (() => FixedSettings);
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Refuses, at deploy time, a deploy that would change a participant's shard count or remove a
 * participant of a deployed stack (the rule and its messages: shared/deploy-guard.ts). A custom
 * resource whose properties are those settings; CloudFormation asks its function on every change
 * of them, and a refusal fails the update, which rolls back.
 *
 * `guardEverythingIn` (called last) makes every other resource of the stack wait for the guard's
 * answer, so a refused deploy has changed nothing but the guard's own function: no function, queue,
 * table, policy or event source was updated, and nothing was created or deleted (what an update
 * removes is only deleted in CloudFormation's cleanup, after every update succeeded).
 */
export class DeployGuard extends Construct {
  readonly handler: NodeFunction;
  readonly resource: CustomResource;
  private readonly props: DeployGuardProps;
  private produced: DeployGuardProperties | undefined;

  constructor(scope: Construct, id: string, props: DeployGuardProps) {
    super(scope, id);
    this.props = props;
    // No permissions beyond its own logs: the answer is an HTTP PUT to CloudFormation's presigned URL.
    this.handler = new NodeFunction(this, 'Fn', {
      code: 'deploy-guard',
      description: "Tandem deploy guard: refuses a change of a participant's shards or its removal",
      timeout: Duration.seconds(60),
      memorySizeMb: 256,
      removalPolicy: props.removalPolicy,
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.fn.functionArn,
      resourceType: DEPLOY_GUARD_TYPE,
      properties: {
        Shards: Lazy.any({ produce: () => this.properties().Shards }),
        Participants: Lazy.any({ produce: () => this.properties().Participants }),
      },
      // A guard that never answers would otherwise hold the deploy for an hour.
      serviceTimeout: Duration.minutes(5),
    });
  }

  private properties(): DeployGuardProperties {
    if (this.produced === undefined) {
      const { settings } = this.props;
      const properties = guardProperties(typeof settings === 'function' ? settings() : settings);
      // A guard that could not read its own properties would refuse every deploy: fail the synth.
      const problem = parseProperties(properties);
      if (typeof problem === 'string')
        throw new Error(`${this.node.path}: invalid deploy guard settings: ${problem}`);
      this.produced = properties;
    }
    return this.produced;
  }

  /**
   * Makes every resource under `scope` but the guard's own depend on the guard's answer. Call it
   * once `scope` is complete: what is added afterwards is not covered.
   */
  guardEverythingIn(scope: IConstruct): void {
    for (const child of scope.node.children) {
      // Not the guard, nor a construct that holds it (its resources cannot wait for themselves).
      if (child !== this && !this.node.path.startsWith(`${child.node.path}/`)) {
        child.node.addDependency(this.resource);
      }
    }
  }
}
