import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/config';
import { bankAndShopSpecs } from '../../shared/bank-and-shop';
import { readApiConfig } from '../../shared/config';
import { ConfigurationError } from '../../shared/errors';
import { encodeSpecs } from '../../shared/registry';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('deploy-time configuration', () => {
  it('defaults to a dev stage with two shards, 64 slots and SigV4 auth', () => {
    expect(configOf({})).toMatchObject({ stage: 'dev', ledgerShardCount: 2, slotCount: 64, apiAuth: 'iam' });
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

/** The API function's environment, as the construct writes it (with a stand-in participant spec). */
const apiEnv = {
  TANDEM_PARTICIPANTS: '[{"name":"ledger"}]',
  TRANSACTIONS_TABLE: 'txs',
  SLOTS_TABLE: 'slots',
  TIMER_QUEUE_URL: 'http://localhost:4566/000000000000/timers',
  PARTICIPANT_QUEUES: '{"ledger-0":"http://localhost:4566/000000000000/ledger-0"}',
  SLOT_COUNT: '64',
  PREPARE_TIMEOUT_MS: '10000',
  RESEND_BASE_MS: '500',
  RESEND_CAP_MS: '8000',
};

describe('function configuration', () => {
  const env = apiEnv;

  it('reads the tables, the queues, the slot count and the coordinator timings', () => {
    expect(readApiConfig(env)).toEqual({
      participants: [{ name: 'ledger' }],
      counterTables: {},
      transactionsTable: 'txs',
      slotsTable: 'slots',
      start: {
        timerQueueUrl: 'http://localhost:4566/000000000000/timers',
        participantQueues: { 'ledger-0': 'http://localhost:4566/000000000000/ledger-0' },
      },
      slotCount: 64,
      coordinator: { prepareTimeoutMs: 10_000, resendBaseMs: 500, resendCapMs: 8_000 },
      onePhase: true,
    });
  });

  it('reads the one-phase switch (on by default)', () => {
    expect(readApiConfig({ ...env, ONE_PHASE: 'off' })).toMatchObject({ onePhase: false });
    expect(readApiConfig({ ...env, ONE_PHASE: 'on' }).onePhase).toBe(true);
    expect(() => readApiConfig({ ...env, ONE_PHASE: 'yes' })).toThrow(/ONE_PHASE must be 'on' or 'off'/);
  });

  it('fails at cold start when a variable is missing or malformed', () => {
    expect(() => readApiConfig({})).toThrow(ConfigurationError);
    expect(() => readApiConfig({ TANDEM_PARTICIPANTS: '[]' })).toThrow(/TRANSACTIONS_TABLE/);
    expect(() => readApiConfig({ ...env, TANDEM_PARTICIPANTS: '{"name":"ledger"}' })).toThrow(
      /TANDEM_PARTICIPANTS must be a JSON array/,
    );
    expect(() => readApiConfig({ ...env, COUNTER_TABLES: '["t0"]' })).toThrow(
      /COUNTER_TABLES must be a JSON object/,
    );
  });

  it.each(Object.keys(env))('requires %s', (name) => {
    const { [name as keyof typeof env]: _dropped, ...rest } = env;
    expect(() => readApiConfig(rest)).toThrow(ConfigurationError);
    expect(() => readApiConfig(rest)).toThrow(name);
    expect(() => readApiConfig({ ...env, [name]: '  ' })).toThrow(name);
  });

  it.each([
    ['SLOT_COUNT', '0'],
    ['SLOT_COUNT', '1025'],
    ['SLOT_COUNT', '1.5'],
    ['SLOT_COUNT', '1e2'],
    ['SLOT_COUNT', 'many'],
    ['PREPARE_TIMEOUT_MS', '0'],
    ['PREPARE_TIMEOUT_MS', '-5'],
    ['RESEND_BASE_MS', '0x10'],
    ['RESEND_CAP_MS', '99999999999999999999'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => readApiConfig({ ...env, [name]: value })).toThrow(ConfigurationError);
    expect(() => readApiConfig({ ...env, [name]: value })).toThrow(name);
  });

  it('refuses a resend base above the cap', () => {
    expect(() => readApiConfig({ ...env, RESEND_BASE_MS: '9000' })).toThrow(
      /RESEND_BASE_MS \(9000\) must not exceed/,
    );
  });
});

describe('the participant specs of the API', () => {
  const env = apiEnv;

  it('reads them compressed, as the construct writes them', () => {
    const specs = bankAndShopSpecs(2);
    expect(readApiConfig({ ...env, TANDEM_PARTICIPANTS: encodeSpecs(specs) }).participants).toEqual(specs);
  });

  it.each([
    ['deflate:AAAA', /cannot be decompressed/],
    ['{"name":"ledger"}', /must be a JSON array/],
    ['[oops', /are not JSON/],
  ])('refuses TANDEM_PARTICIPANTS=%s with a readable error', (value, message) => {
    expect(() => readApiConfig({ ...env, TANDEM_PARTICIPANTS: value })).toThrow(ConfigurationError);
    expect(() => readApiConfig({ ...env, TANDEM_PARTICIPANTS: value })).toThrow(message);
  });
});
