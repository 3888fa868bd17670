/**
 * Static checks over the synthesized CloudFormation: cfn-lint and checkov (both from PyPI,
 * pinned, installed on demand into .tandem/tools-venv like the emulator). Every stage variant is
 * synthesized in-process, after the functions' bundles are built (those whose sources changed).
 * Any finding that static-checks.json does not accept with a reason fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readConfig } from '../infra/config';
import { TandemStack } from '../infra/tandem-stack';
import { buildLambdaCode } from './build';
import { ROOT, SetupError, STATE_DIR } from './emulator';

interface Accepted {
  readonly id: string;
  readonly reason: string;
}
interface StaticChecksConfig {
  readonly versions: { readonly 'cfn-lint': string; readonly checkov: string };
  readonly cfnLint: readonly Accepted[];
  readonly checkov: readonly Accepted[];
}

const VARIANTS: Readonly<Record<string, Record<string, string>>> = {
  dev: {},
  prod: { stage: 'prod' },
  'prod-jwt': {
    stage: 'prod',
    apiAuth: 'jwt',
    jwtIssuer: 'https://issuer.example.com',
    jwtAudience: 'tandem',
  },
  local: { stage: 'local', apiAuth: 'none', faults: 'on' },
};

function readStaticChecksConfig(): StaticChecksConfig {
  const config = JSON.parse(readFileSync(join(ROOT, 'static-checks.json'), 'utf8')) as StaticChecksConfig;
  for (const entry of [...config.cfnLint, ...config.checkov]) {
    if (!entry.reason || entry.reason.trim().length < 20) {
      throw new SetupError(`static-checks.json: ${entry.id} needs a specific reason`);
    }
  }
  return config;
}

const VENV = join(STATE_DIR, 'tools-venv');

function ensureTools(config: StaticChecksConfig, log: (line: string) => void): string {
  const stamp = join(VENV, '.tandem-tools');
  const wanted = `cfn-lint==${config.versions['cfn-lint']} checkov==${config.versions.checkov}`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return join(VENV, 'bin');
  log(`installing ${wanted} into ${VENV} …`);
  const venv = spawnSync(process.env.TANDEM_PYTHON ?? 'python3', ['-m', 'venv', '--clear', VENV], {
    encoding: 'utf8',
  });
  if (venv.status !== 0) {
    throw new SetupError(
      `could not create ${VENV}: ${venv.stderr || venv.error?.message}\nInstall python3 and its venv module (Debian/Ubuntu: sudo apt-get install python3-venv).`,
    );
  }
  const pip = spawnSync(
    join(VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...wanted.split(' ')],
    {
      encoding: 'utf8',
    },
  );
  if (pip.status !== 0) throw new SetupError(`installing ${wanted} failed:\n${pip.stderr.slice(-2000)}`);
  writeFileSync(stamp, `${wanted}\n`);
  return join(VENV, 'bin');
}

/** Synthesizes every variant's template into .tandem/static/<variant>.template.json. */
async function synthesizeVariants(): Promise<Record<string, string>> {
  await buildLambdaCode();
  const dir = join(STATE_DIR, 'static');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const [variant, context] of Object.entries(VARIANTS)) {
    const app = new App({
      outdir: join(dir, `${variant}.out`),
      context,
    });
    const config = readConfig(app.node);
    const stack = new TandemStack(app, `Tandem-${config.stage}`, { config });
    Aspects.of(app).add(new AwsSolutionsChecks());
    Aspects.of(app).add(new ServerlessChecks());
    const assembly = app.synth();
    const file = join(dir, `${variant}.template.json`);
    writeFileSync(file, JSON.stringify(assembly.getStackByName(stack.stackName).template, null, 1));
    files[variant] = file;
  }
  return files;
}

export interface Finding {
  readonly tool: 'cfn-lint' | 'checkov';
  readonly variant: string;
  readonly id: string;
  readonly where: string;
  readonly message: string;
}

function runCfnLint(bin: string, variant: string, file: string): Finding[] {
  const result = spawnSync(join(bin, 'cfn-lint'), ['--format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.error) throw new SetupError(`cfn-lint did not run: ${result.error.message}`);
  const matches = JSON.parse(result.stdout || '[]') as Array<{
    Rule: { Id: string };
    Message: string;
    Location: { Path: Array<string | number> };
  }>;
  return matches.map((m) => ({
    tool: 'cfn-lint',
    variant,
    id: m.Rule.Id,
    where: m.Location.Path.slice(0, 2).join('/'),
    message: m.Message,
  }));
}

function runCheckov(bin: string, variant: string, file: string): Finding[] {
  const result = spawnSync(
    join(bin, 'checkov'),
    [
      '-f',
      file,
      '--framework',
      'cloudformation',
      '--output',
      'json',
      '--quiet',
      '--compact',
      '--skip-download',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' } },
  );
  if (result.error) throw new SetupError(`checkov did not run: ${result.error.message}`);
  const parsed = JSON.parse(result.stdout || '{}') as
    | { results?: { failed_checks?: Array<{ check_id: string; resource: string; check_name: string }> } }
    | Array<{
        results?: { failed_checks?: Array<{ check_id: string; resource: string; check_name: string }> };
      }>;
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  return reports.flatMap((report) =>
    (report.results?.failed_checks ?? []).map((c) => ({
      tool: 'checkov' as const,
      variant,
      id: c.check_id,
      where: c.resource,
      message: c.check_name,
    })),
  );
}

export async function runStaticChecks(
  log: (line: string) => void,
): Promise<{ findings: Finding[]; accepted: number }> {
  const config = readStaticChecksConfig();
  const bin = ensureTools(config, log);
  const files = await synthesizeVariants();
  const acceptedIds = {
    'cfn-lint': new Set(config.cfnLint.map((e) => e.id)),
    checkov: new Set(config.checkov.map((e) => e.id)),
  };
  let accepted = 0;
  const findings: Finding[] = [];
  for (const [variant, file] of Object.entries(files)) {
    for (const finding of [...runCfnLint(bin, variant, file), ...runCheckov(bin, variant, file)]) {
      if (acceptedIds[finding.tool].has(finding.id)) accepted++;
      else findings.push(finding);
    }
  }
  return { findings, accepted };
}
