import { App, Aspects, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readConfig } from '../../infra/config';
import { TandemStack } from '../../infra/tandem-stack';

/**
 * Synthesizes the stack as `cdk synth` would (cdk-nag included), with the functions' pre-built
 * bundles (the infra project's global setup builds them).
 */
export function synth(context: Record<string, unknown> = {}): { stack: Stack; template: Template } {
  const app = new App({ context });
  const config = readConfig(app.node);
  const stack = new TandemStack(app, `Tandem-${config.stage}`, { config });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  Aspects.of(app).add(new ServerlessChecks({ verbose: true }));
  const template = Template.fromStack(stack);
  return { stack, template };
}

/** The stage variants every template-wide check runs over. */
export const VARIANTS: ReadonlyArray<[string, Record<string, unknown>]> = [
  ['dev', {}],
  ['prod', { stage: 'prod' }],
  ['local with faults', { stage: 'local', apiAuth: 'none', faults: 'on' }],
  ['local bench', { stage: 'local', apiAuth: 'none', bench: 'on' }],
];
