import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DeployGuard } from '../../infra/constructs/deploy-guard';
import { DEPLOY_GUARD_TYPE, type FixedSettings } from '../../shared/deploy-guard';

/** A stack of its own for one guard, synthesized without bundling the function. */
function stackWithGuard(settings: FixedSettings | (() => FixedSettings)) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'GuardTest');
  const guard = new DeployGuard(stack, 'DeployGuard', { settings, removalPolicy: RemovalPolicy.DESTROY });
  const propertiesOfGuard = () => {
    const guards = Object.values(Template.fromStack(stack).findResources(DEPLOY_GUARD_TYPE));
    expect(guards).toHaveLength(1);
    const { ServiceToken: _token, ServiceTimeout: _timeout, ...properties } = guards[0]?.Properties ?? {};
    return properties;
  };
  return { guard, propertiesOfGuard };
}

describe('the DeployGuard construct', () => {
  it('writes the settings it is given as the Shards and Participants properties', () => {
    // Prepare
    const { propertiesOfGuard } = stackWithGuard({
      shards: { seats: 4, ledger: 2 },
      participants: ['seats-3', 'seats-2', 'seats-1', 'seats-0', 'ledger-1', 'ledger-0', 'inventory'],
    });
    // Act + Assess
    expect(propertiesOfGuard()).toEqual({
      Shards: { ledger: '2', seats: '4' },
      Participants: ['inventory', 'ledger-0', 'ledger-1', 'seats-0', 'seats-1', 'seats-2', 'seats-3'],
    });
  });

  it('covers participants added to the app after the guard was created, computing the settings once', () => {
    // Prepare: the app's participants, as a construct would collect them while the app is built
    const shards: Record<string, number> = { ledger: 2 };
    const participants = ['ledger-0', 'ledger-1'];
    let calls = 0;
    const { propertiesOfGuard } = stackWithGuard(() => {
      calls++;
      return { shards, participants };
    });
    // Act: a sharded and an unsharded participant come after the guard
    shards.seats = 2;
    participants.push('seats-0', 'seats-1', 'inventory');
    const properties = propertiesOfGuard();
    // Assess
    expect(properties).toEqual({
      Shards: { ledger: '2', seats: '2' },
      Participants: ['inventory', 'ledger-0', 'ledger-1', 'seats-0', 'seats-1'],
    });
    expect(calls).toBe(1);
  });

  it.each([
    [
      'a shard count the guard cannot hold',
      { shards: { ledger: 33 }, participants: ['inventory'] },
      'Shards.ledger must be a shard count from 1 to 32, got "33"',
    ],
    [
      'shards without their participant ids',
      { shards: { seats: 2 }, participants: ['seats-0'] },
      "Shards gives participant 'seats' 2 shards, but Participants lacks seats-1",
    ],
    ['no participant', { shards: {}, participants: [] }, 'Participants must be a non-empty list'],
  ])('fails the synth on %s, naming the guard and the problem', (_, settings, message) => {
    // Prepare
    const { propertiesOfGuard } = stackWithGuard(() => settings);
    // Act + Assess
    expect(propertiesOfGuard).toThrow(`GuardTest/DeployGuard: invalid deploy guard settings: ${message}`);
  });
});
