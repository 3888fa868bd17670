import { parseCounterSpec } from '../../shared/participant/counter';
import { participantHandler } from '../../shared/participant/handler';
import { counterParticipant } from '../../shared/participant/sdk';

/**
 * Tandem's built-in counter participant (balances, stock: shared/participant/counter.ts), built on
 * the participant SDK like any team's participant. Its counter comes from COUNTER_SPEC (JSON), set
 * by the construct; the bank's ledger shards and the shop's inventory are this function.
 */
export const handler = participantHandler(
  counterParticipant(parseCounterSpec(JSON.parse(process.env.COUNTER_SPEC ?? 'null'), 'COUNTER_SPEC')),
);
