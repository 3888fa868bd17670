import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { type NagPackSuppression, NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { addNagSuppressions } from '../../infra/constructs/nag';

/** Two queues with a DLQ each under one construct: an L2 with children, and L1s without. */
function tree(stack: Stack, id: string): Construct {
  const scope = new Construct(stack, id);
  new sqs.Queue(scope, 'Main', {
    deadLetterQueue: { queue: new sqs.Queue(scope, 'Dlq'), maxReceiveCount: 3 },
  });
  return scope;
}

const metadataOf = (scope: Construct) =>
  scope.node
    .findAll()
    .filter((c): c is CfnResource => c instanceof CfnResource)
    .map((resource) => [resource.node.path.replace(/^[^/]+\/[^/]+\//, ''), resource.getMetadata('cdk_nag')]);

const suppressions: NagPackSuppression[] = [
  { id: 'AwsSolutions-SQS3', reason: 'A reason that is long enough.' },
  {
    id: 'AwsSolutions-IAM5',
    reason: 'Wildcards of the queue’s own streams — non-Latin-1 text: ✓',
    appliesTo: ['Resource::*', { regex: '/^Resource::<Queue.*\\.Arn>:\\*$/' }],
  },
];

describe('addNagSuppressions', () => {
  it('writes exactly the metadata cdk-nag’s own NagSuppressions writes', () => {
    const stack = new Stack(new App(), 'Nag');
    for (const applyToChildren of [false, true]) {
      const ours = tree(stack, `Ours${applyToChildren}`);
      const theirs = tree(stack, `Theirs${applyToChildren}`);
      const ourQueue = ours.node.findChild('Main');
      const theirQueue = theirs.node.findChild('Main');
      addNagSuppressions(ours, suppressions, applyToChildren);
      NagSuppressions.addResourceSuppressions(theirs, suppressions, applyToChildren);
      // Added again, and next to another rule: cdk-nag keeps one copy of each.
      const again = [suppressions[0]!, { id: 'Serverless-SQSRedrivePolicy', reason: 'Once more, ten+.' }];
      addNagSuppressions([ourQueue], again);
      NagSuppressions.addResourceSuppressions([theirQueue], again);
      expect(metadataOf(ours)).toEqual(metadataOf(theirs));
    }
    expect(metadataOf(stack.node.findChild('Ourstrue') as Construct).every(([, m]) => m !== undefined)).toBe(
      true,
    );
  });

  it('refuses what cdk-nag would refuse, naming the construct and the rule', () => {
    const stack = new Stack(new App(), 'Nag');
    expect(() => addNagSuppressions(stack, [{ id: 'AwsSolutions-SQS3', reason: 'short' }])).toThrow(
      'Nag: cdk-nag suppression AwsSolutions-SQS3: its reason must have 10 characters or more',
    );
    expect(() =>
      addNagSuppressions(stack, [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'A reason that is long enough.',
          appliesTo: [{ regex: 'Resource::*' }],
        },
      ]),
    ).toThrow('appliesTo regex Resource::* is not a valid /pattern/flags');
    expect(() => addNagSuppressions([], suppressions)).toThrow(/no construct/);
  });
});
