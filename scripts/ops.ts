/**
 * `npm run ops -- <command>` (or `npx tsx scripts/ops.ts <command>`): Tandem's operator tools —
 * stuck transactions, one transaction's timeline, retry, abort before the decision, and the
 * dead-letter queues. The logic lives in shared/ops; `npm run ops -- --help` lists the commands.
 */
import { main } from '../shared/ops/cli';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
