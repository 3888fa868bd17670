/**
 * `npm run participant-check -- --url <base> --secret <secret> [--operations <json>]`: checks a
 * live HTTPS participant against the contract (shared/https/conformance.ts has the rules).
 */
import { main } from '../shared/https/conformance';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
