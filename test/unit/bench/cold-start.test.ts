import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AssemblyFunction,
  ColdStartError,
  functionsOfAssembly,
  measureColdStarts,
} from '../../../dev/bench/cold-start';

const STACK = 'Test-stack';

// A CommonJS bundle that parses its configuration at load, as the handlers do, and spins for a
// while so that the measured time has a floor. It fails if it is loaded as an ES module (no
// `module`), with a real credential or endpoint, or without the placeholders it needs.
const GOOD_BUNDLE = `"use strict";
const env = process.env;
const queues = JSON.parse(env.PARTICIPANT_QUEUES);
if (!queues['ledger-0'].startsWith('http://127.0.0.1:9/')) throw new Error('bad queue URL ' + queues['ledger-0']);
if (!/^\\d+$/.test(env.SLOT_COUNT)) throw new Error('bad SLOT_COUNT');
if (env.AWS_ENDPOINT_URL !== 'http://127.0.0.1:9') throw new Error('endpoint not faked');
if (env.AWS_REGION !== 'us-east-1') throw new Error('region not set');
if (env.AWS_ACCESS_KEY_ID !== 'AKIAFAKECOLDSTART000') throw new Error('credentials not faked');
if (env.COLD_START_TEST_LEAK !== undefined) throw new Error('parent environment leaked');
console.log('{"initMs": -1}');
const until = Date.now() + 40;
while (Date.now() < until) {}
module.exports = { handler: async () => ({ statusCode: 200 }) };
`;

const BAD_BUNDLE = `"use strict";
throw new Error('configuration exploded at load');
`;

const template = {
  Resources: {
    InboxQueueAB12CD34: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
    Ledger0InboxQueue12345678: { Type: 'AWS::SQS::Queue', Properties: {} },
    DataTable0A1B2C3D: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    ApiFnFCA260D6: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        MemorySize: 1024,
        Environment: {
          Variables: {
            SLOT_COUNT: '64',
            TABLE: { Ref: 'DataTable0A1B2C3D' },
            COORDINATOR_QUEUE_URL: { Ref: 'InboxQueueAB12CD34' },
            QUEUE_ARN: { 'Fn::GetAtt': ['Ledger0InboxQueue12345678', 'Arn'] },
            PARTICIPANT_QUEUES: {
              'Fn::Join': ['', ['{"ledger-0":"', { Ref: 'Ledger0InboxQueue12345678' }, '"}']],
            },
          },
        },
      },
      Metadata: { 'aws:cdk:path': `${STACK}/Api/Fn/Resource`, 'aws:asset:path': 'asset.good' },
    },
    Ledger0HandlerFn9AF97627: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Environment: { Variables: { PARTICIPANT_ID: 'ledger-0' } },
      },
      Metadata: { 'aws:cdk:path': `${STACK}/Ledger0/Handler/Fn/Resource`, 'aws:asset:path': 'asset.bad' },
    },
    CoordinatorSweeperFnD60CDB45: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.sweep',
        Runtime: 'nodejs22.x',
        Environment: {
          Variables: { PARTICIPANT_QUEUES: '{"ledger-0":"http://127.0.0.1:9/q"}', SLOT_COUNT: '8' },
        },
      },
      Metadata: {
        'aws:cdk:path': `${STACK}/Coordinator/SweeperFn/Fn/Resource`,
        'aws:asset:path': 'asset.good',
      },
    },
    LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aFD4BFC8A: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x' },
      Metadata: {
        'aws:cdk:path': `${STACK}/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a/Resource`,
        'aws:asset:path': 'asset.helper',
      },
    },
  },
};

let assembly: string;

beforeAll(() => {
  assembly = mkdtempSync(join(tmpdir(), 'cold-start-test-'));
  // Like the repository's own: an ES-module scope above the assets.
  writeFileSync(join(assembly, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(assembly, `${STACK}.template.json`), JSON.stringify(template));
  for (const [dir, source] of [
    ['asset.good', GOOD_BUNDLE],
    ['asset.bad', BAD_BUNDLE],
    ['asset.helper', GOOD_BUNDLE],
  ] as const) {
    mkdirSync(join(assembly, dir));
    writeFileSync(join(assembly, dir, 'index.js'), source);
    writeFileSync(join(assembly, dir, 'index.js.map'), '{"version":3,"sources":[],"mappings":""}');
  }
  process.env.COLD_START_TEST_LEAK = 'secret';
});

afterAll(() => {
  rmSync(assembly, { recursive: true, force: true });
  delete process.env.COLD_START_TEST_LEAK;
});

const byName = (functions: readonly AssemblyFunction[], name: string) => {
  const fn = functions.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name} in ${functions.map((f) => f.name).join(', ')}`);
  return fn;
};

describe('functions of an assembly', () => {
  it('finds the stack functions, names them, and leaves CDK helpers out', () => {
    // Act
    const functions = functionsOfAssembly(assembly, STACK);

    // Assess
    expect(functions.map((f) => f.name).sort()).toEqual(['api', 'ledger-0', 'sweeper']);
    expect(byName(functions, 'api')).toMatchObject({
      logicalId: 'ApiFnFCA260D6',
      assetDir: join(assembly, 'asset.good'),
      bundlePath: join(assembly, 'asset.good', 'index.js'),
      handler: 'index.handler',
      memoryMb: 1024,
    });
    expect(byName(functions, 'ledger-0')).toMatchObject({
      bundlePath: join(assembly, 'asset.bad', 'index.js'),
      memoryMb: 128,
      environment: { PARTICIPANT_ID: 'ledger-0' },
    });
  });

  it('replaces intrinsics with placeholders of the right shape', () => {
    // Act
    const { environment } = byName(functionsOfAssembly(assembly, STACK), 'api');

    // Assess
    expect(environment).toEqual({
      SLOT_COUNT: '64',
      TABLE: 'DataTable0A1B2C3D',
      COORDINATOR_QUEUE_URL: 'http://127.0.0.1:9/000000000000/InboxQueueAB12CD34.fifo',
      QUEUE_ARN: 'arn:aws:sqs:us-east-1:000000000000:Ledger0InboxQueue12345678',
      PARTICIPANT_QUEUES: '{"ledger-0":"http://127.0.0.1:9/000000000000/Ledger0InboxQueue12345678"}',
    });
  });

  it('says which template it could not read', () => {
    expect(() => functionsOfAssembly(assembly, 'Missing-stack')).toThrow(/Missing-stack\.template\.json/);
  });
});

describe('measuring cold starts', () => {
  it('reports the exact bundle size and a load time that includes the top-level work', () => {
    // Prepare
    const api = byName(functionsOfAssembly(assembly, STACK), 'api');

    // Act
    const [coldStart] = measureColdStarts([api], { runs: 3 });

    // Assess
    expect(coldStart?.name).toBe('api');
    expect(coldStart?.bundleBytes).toBe(Buffer.byteLength(GOOD_BUNDLE));
    expect(coldStart?.initMs).toBeGreaterThanOrEqual(40);
    expect(coldStart?.initMs).toBeLessThan(5_000);
  });

  it('names the function that fails to load and quotes its error', () => {
    // Prepare
    const ledger = byName(functionsOfAssembly(assembly, STACK), 'ledger-0');

    // Act
    const measure = () => measureColdStarts([ledger], { runs: 1 });

    // Assess
    expect(measure).toThrow(ColdStartError);
    expect(measure).toThrow(/function ledger-0 .*failed to load[\s\S]*configuration exploded at load/);
  });

  it('fails a bundle that loads without exporting its handler', () => {
    // Prepare
    const sweeper = byName(functionsOfAssembly(assembly, STACK), 'sweeper');

    // Act
    const measure = () => measureColdStarts([sweeper], { runs: 1 });

    // Assess
    expect(measure).toThrow(/function sweeper .*failed to load[\s\S]*exports no function sweep/);
  });

  it('refuses a run count that is not a positive integer', () => {
    expect(() => measureColdStarts([], { runs: 0 })).toThrow(/runs/);
  });
});
