#!/usr/bin/env node
/**
 * `tandem-participant-check` (the package's command; `npm run participant-check` in this repository):
 * checks a live HTTPS participant against the contract (shared/https/conformance.ts has the rules).
 */
import { main } from './conformance';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
