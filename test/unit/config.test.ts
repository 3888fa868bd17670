import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/config';
import { readApiConfig } from '../../shared/config';
import { ConfigurationError } from '../../shared/errors';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('deploy-time configuration', () => {
  it('defaults to a dev stage with two shards, 64 slots and SigV4 auth', () => {
    expect(configOf({})).toEqual({ stage: 'dev', ledgerShardCount: 2, slotCount: 64, apiAuth: 'iam' });
  });

  it('reads numbers given as strings on the command line', () => {
    expect(configOf({ ledgerShards: '3', slots: '16' })).toMatchObject({
      ledgerShardCount: 3,
      slotCount: 16,
    });
  });

  it.each([
    [{ stage: 'staging' }, /stage/],
    [{ ledgerShards: '0' }, /ledgerShards/],
    [{ slots: 'many' }, /slots/],
    [{ apiAuth: 'open' }, /apiAuth/],
    [{ apiAuth: 'none' }, /only allowed with 'stage=local'/],
    [{ apiAuth: 'none', stage: 'prod' }, /only allowed/],
  ])('rejects %o with a readable message', (context, message) => {
    expect(() => configOf(context)).toThrow(ConfigError);
    expect(() => configOf(context)).toThrow(message);
  });

  it('lets only the local stage turn auth off', () => {
    expect(configOf({ stage: 'local', apiAuth: 'none' }).apiAuth).toBe('none');
  });
});

describe('function configuration', () => {
  it('reads the shard tables in order', () => {
    expect(readApiConfig({ LEDGER_SHARD_TABLES: 't0, t1', INVENTORY_TABLE: 'inv' })).toEqual({
      ledgerShardTables: ['t0', 't1'],
      inventoryTable: 'inv',
    });
  });

  it('fails at cold start when a variable is missing or malformed', () => {
    expect(() => readApiConfig({})).toThrow(ConfigurationError);
    expect(() => readApiConfig({ LEDGER_SHARD_TABLES: 't0' })).toThrow(/INVENTORY_TABLE/);
    expect(() => readApiConfig({ LEDGER_SHARD_TABLES: 't0,,t1', INVENTORY_TABLE: 'i' })).toThrow(
      /comma-separated/,
    );
  });
});
