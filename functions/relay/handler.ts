import { relayHandler } from '../../shared/https/handler';

/**
 * The relay of an HTTPS participant: its inbox's messages become try / confirm / cancel calls to
 * the team's endpoint (shared/https/handler.ts). Its settings come from the construct
 * (infra/constructs/https-participant.ts).
 */
export const handler = relayHandler();
