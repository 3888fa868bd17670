import type { LocalDeployment } from '../../dev/deploy';
import { main } from '../../shared/ops/cli';

/** What one `npm run ops -- …` printed, and its exit code. */
export interface OpsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the operator CLI in-process against the test deployment (`--stack`, `--endpoint` added). */
export async function runOps(deployment: LocalDeployment, ...argv: string[]): Promise<OpsRun> {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--stack', deployment.stackName, '--endpoint', deployment.endpoint], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
