/** `npm run static-checks`: cfn-lint and checkov over every synthesized stage; fails on any unaccepted finding. */
import { SetupError } from '../dev/emulator';
import { runStaticChecks } from '../dev/static-checks';

try {
  const { findings, accepted } = await runStaticChecks((line) => console.log(`[tandem] ${line}`));
  for (const f of findings) console.error(`${f.tool} ${f.id} [${f.variant}] ${f.where}: ${f.message}`);
  console.log(
    `[tandem] static checks: ${findings.length} finding(s), ${accepted} accepted with a reason (static-checks.json)`,
  );
  process.exit(findings.length === 0 ? 0 : 1);
} catch (error) {
  console.error(`[tandem] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
