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

interface Stack {
  readonly deployment: LocalDeployment;
  readonly stop: () => Promise<void>;
}

interface Shared {
  readonly stack: Promise<Stack>;
  users: number;
}

const SHARED = Symbol.for('tandem.e2e.stack');
const processGlobal = globalThis as { [SHARED]?: Shared };

/**
 * Hands the deployed stack to a project's tests (`inject('deployment')`). Vitest calls this once per
 * project that uses it (e2e, slow), each time in a module instance of its own but in one process:
 * the first call starts the emulator and deploys, the others share that through the process's
 * global object, and the last teardown stops the emulator.
 */
export default async function setup(project: TestProject) {
  processGlobal[SHARED] ??= { stack: startStack(), users: 0 };
  const shared = processGlobal[SHARED];
  shared.users += 1;
  const { deployment, stop } = await shared.stack;
  project.provide('deployment', deployment);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete processGlobal[SHARED];
    await stop();
  };
}

/**
 * Starts the embedded emulator on a free loopback port (or uses the one AWS_ENDPOINT_URL /
 * TANDEM_ENDPOINT names) and deploys the real CDK app into it. The emulator's log stays in
 * .tandem/logs for failures.
 */
async function startStack(): Promise<Stack> {
  const log = (line: string) => console.log(`[e2e] ${line}`);
  const emulator = await startEmulator({ log });
  try {
    // The payment service's port (test/e2e/https-participants.test.ts serves it): picked here and
    // kept in the environment, so the test files' redeploys (TEST_CONTEXT) point at it too.
    process.env[PAYMENTS_PORT_ENV] ??= String(await freePort());
    const deployment = await deployLocal(emulator.endpoint, log, [...TEST_CONTEXT, ...paymentsPortContext()]);
    log(`API at ${deployment.apiUrl}`);
    // Tests build SDK clients against the emulator through the standard variables.
    Object.assign(process.env, emulatorEnv(emulator.endpoint));
    return {
      deployment,
      stop: async () => {
        await emulator.stop();
        if (emulator.logFile) log(`emulator stopped; its log: ${emulator.logFile}`);
      },
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
