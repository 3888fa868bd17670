import { CustomResource, Duration, type RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEPLOY_GUARD_TYPE, type FixedSettings, guardProperties } from '../../shared/deploy-guard';
import { NodeFunction } from './node-function';

export interface DeployGuardProps extends FixedSettings {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Refuses, at deploy time, a deploy that would change the ledger shard count or remove a
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

  constructor(scope: Construct, id: string, props: DeployGuardProps) {
    super(scope, id);
    // No permissions beyond its own logs: the answer is an HTTP PUT to CloudFormation's presigned URL.
    this.handler = new NodeFunction(this, 'Fn', {
      code: 'deploy-guard',
      description: 'Tandem deploy guard: refuses a change of ledgerShards or the removal of a participant',
      timeout: Duration.seconds(60),
      memorySizeMb: 256,
      removalPolicy: props.removalPolicy,
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.fn.functionArn,
      resourceType: DEPLOY_GUARD_TYPE,
      properties: guardProperties(props),
      // A guard that never answers would otherwise hold the deploy for an hour.
      serviceTimeout: Duration.minutes(5),
    });
  }

  /**
   * Makes every resource of the stack but the guard's own depend on the guard's answer. Call it once
   * the stack is complete: what is added afterwards is not covered.
   */
  guardEverythingIn(stack: Stack): void {
    for (const child of stack.node.children) {
      if (child !== this) child.node.addDependency(this.resource);
    }
  }
}
