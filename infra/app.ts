import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { buildLambdaCode } from '../dev/build';
import { readConfig } from './config';
import { TandemStack } from './tandem-stack';

// This repository's own app builds the functions' bundles first (only those whose sources
// changed), so `cdk synth` and `cdk deploy` here always deploy the code as it is now.
const lambda = await buildLambdaCode();
if (lambda.built.length > 0)
  console.error(`[tandem] built Lambda code ${lambda.built.join(', ')} in ${lambda.ms} ms`);

const app = new App();
const config = readConfig(app.node);
new TandemStack(app, `Tandem-${config.stage}`, {
  config,
  description: `Tandem two-phase-commit coordinator (${config.stage})`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
Aspects.of(app).add(new ServerlessChecks({ verbose: true }));
