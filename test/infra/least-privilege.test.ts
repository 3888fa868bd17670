import { describe, expect, it } from 'vitest';
import { synth, VARIANTS } from '../support/synth';

/**
 * Where AWS offers nothing narrower than `*`, with the reason. Anything else with a wildcard
 * action or a bare `*` resource fails the test.
 */
const ALLOWED_STAR_RESOURCES: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions for sending trace segments',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions for telemetry records',
  'dynamodb:ListStreams':
    "ListStreams has no resource-level permissions; Lambda's stream event source needs it (events out)",
};

/** The policies of the participants' function roles (ledger shards and inventory). */
const PARTICIPANT_POLICY = /^(Ledger\d+|Inventory)HandlerRole/;
/** Two ledger shards (the default) and the inventory, in every variant. */
const PARTICIPANTS = 3;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function statementsOf(template: ReturnType<typeof synth>['template']): Array<[string, Statement]> {
  const out: Array<[string, Statement]> = [];
  // biome-ignore lint/suspicious/noExplicitAny: walking raw CloudFormation JSON
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, any>)) {
    const documents =
      resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy'
        ? [resource.Properties.PolicyDocument]
        : resource.Type === 'AWS::IAM::Role'
          ? (resource.Properties.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument)
          : [];
    for (const document of documents) for (const statement of document.Statement) out.push([id, statement]);
  }
  return out;
}

describe.each(VARIANTS)('least privilege in the %s stack', (_name, context) => {
  const { template } = synth(context);
  const statements = statementsOf(template).filter(([, s]) => s.Effect === 'Allow');

  it('grants no wildcard action', () => {
    const wild = statements.flatMap(([id, s]) =>
      [s.Action]
        .flat()
        .filter((action) => action.includes('*'))
        .map((action) => `${id}: ${action}`),
    );
    expect(wild).toEqual([]);
  });

  it('grants `*` resources only where AWS offers nothing narrower', () => {
    const wild = statements
      .filter(([, s]) => [s.Resource].flat().includes('*'))
      .flatMap(([id, s]) =>
        [s.Action]
          .flat()
          .filter((a) => !(a in ALLOWED_STAR_RESOURCES))
          .map((a) => `${id}: ${a}`),
      );
    expect(wild).toEqual([]);
  });

  it('uses no AWS managed policies', () => {
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('gives each function access only to its own tables (no table-wide grant to every function)', () => {
    // The API never touches the slot table; participants never touch the slot table, and the
    // transaction log only to note their votes and acks (the next test).
    const byRole = new Map<string, string>();
    for (const [id, s] of statements) byRole.set(id, `${byRole.get(id) ?? ''} ${JSON.stringify(s.Resource)}`);
    const apiPolicy = [...byRole.entries()].find(([id]) => id.startsWith('ApiRole'))?.[1] ?? '';
    expect(apiPolicy).not.toMatch(/CoordinatorSlotsTable/);
    const participantPolicies = [...byRole].filter(([id]) => PARTICIPANT_POLICY.test(id));
    expect(participantPolicies).toHaveLength(PARTICIPANTS);
    for (const [id, resources] of participantPolicies)
      expect(resources, id).not.toMatch(/CoordinatorSlotsTable/);
  });

  it("lets only the coordinator's functions and the participants send to the coordinator's queue", () => {
    // Producers (the API, the intakes) start a transaction with Prepares and a timer: no Begin.
    const senders = statements
      .filter(([, s]) => [s.Action].flat().includes('sqs:SendMessage'))
      .filter(([, s]) => /"CoordinatorInboxQueue[0-9A-F]{8}"/.test(JSON.stringify(s.Resource)))
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(senders.length).toBeGreaterThan(0);
    expect(senders.filter((id) => /^(Api|Intake)/.test(id))).toEqual([]);
    expect(senders.filter((id) => !/^(CoordinatorTimerFn|CoordinatorSweeperFn)/.test(id))).toEqual(
      expect.arrayContaining([expect.stringMatching(PARTICIPANT_POLICY)]),
    );
    const api = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('Api'),
    );
    const apiEnvironment = template.toJSON().Resources[api!].Properties.Environment.Variables;
    expect(apiEnvironment.COORDINATOR_QUEUE_URL).toBeUndefined();
  });

  it("gives the deploy guard nothing but its own logs (and X-Ray's trace segments)", () => {
    const guard = statements.filter(([id]) => id.startsWith('DeployGuardFnRole'));
    expect(guard.flatMap(([, s]) => [s.Action].flat()).sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    for (const [id, s] of guard.filter(([, s]) => [s.Action].flat()[0]?.startsWith('logs:'))) {
      expect(JSON.stringify(s.Resource), id).toMatch(/DeployGuardFnLogs/);
    }
  });

  it('lets a participant only update transaction records (its notes): no read, put or delete, no index', () => {
    const participantPolicies = new Set(
      statements.map(([id]) => id).filter((id) => PARTICIPANT_POLICY.test(id)),
    );
    expect(participantPolicies.size).toBe(PARTICIPANTS);
    for (const policy of participantPolicies) {
      const onLog = statements.filter(
        ([id, s]) => id === policy && JSON.stringify(s.Resource).includes('CoordinatorTransactionsTable'),
      );
      expect(
        onLog.map(([, s]) => ({ Action: [s.Action].flat(), Resource: s.Resource })),
        policy,
      ).toEqual([
        {
          Action: ['dynamodb:UpdateItem'],
          Resource: {
            'Fn::GetAtt': [expect.stringMatching(/^CoordinatorTransactionsTable[0-9A-F]{8}$/), 'Arn'],
          },
        },
      ]);
    }
  });
});
