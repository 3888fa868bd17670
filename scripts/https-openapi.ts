/**
 * `npm run openapi:https`: writes docs/https-participant.openapi.json, the OpenAPI document of the
 * HTTPS participant contract, from the contract's schemas (shared/https/openapi.ts). A unit test
 * fails when the file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { httpsParticipantOpenApiText } from '../shared/https/openapi';

const target = fileURLToPath(new URL('../docs/https-participant.openapi.json', import.meta.url));
writeFileSync(target, httpsParticipantOpenApiText());
console.log(`wrote ${target}`);
