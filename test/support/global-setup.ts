import type { TestProject } from 'vitest/node';
import {
  deployLocal,
  emulatorEnv,
  type LocalDeployment,
  PAYMENTS_PORT_ENV,
  paymentsPortContext,
  TEST_CONTEXT,
} from '../../dev/deploy';
import { freePort, startEmulator } from '../../dev/emulator';

declare module 'vitest' {
  export interface ProvidedContext {
    deployment: LocalDeployment;
  }
}

/**
 * Starts the embedded emulator on a free loopback port (or uses the one AWS_ENDPOINT_URL /
 * TANDEM_ENDPOINT names), deploys the real CDK app into it once, and hands the deployment to the
 * e2e and integration tests. The emulator's log stays in .tandem/logs for failures.
 */
export default async function setup(project: TestProject) {
  const log = (line: string) => console.log(`[e2e] ${line}`);
  const emulator = await startEmulator({ log });
  try {
    // The payment service's port (test/e2e/https-participants.test.ts serves it): picked here and
    // kept in the environment, so the test files' redeploys (TEST_CONTEXT) point at it too.
    process.env[PAYMENTS_PORT_ENV] ??= String(await freePort());
    const deployment = await deployLocal(emulator.endpoint, log, [...TEST_CONTEXT, ...paymentsPortContext()]);
    log(`API at ${deployment.apiUrl}`);
    project.provide('deployment', deployment);
    // Tests build SDK clients against the emulator through the standard variables.
    Object.assign(process.env, emulatorEnv(emulator.endpoint));
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  return async () => {
    await emulator.stop();
    if (emulator.logFile) log(`emulator stopped; its log: ${emulator.logFile}`);
  };
}
