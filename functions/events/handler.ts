import { wireEvents } from '../../shared/lambda/events';
import { instruments } from '../../shared/lambda/middleware';

/** Events out: each committed or aborted transaction announced on the bus. */
export const handler = wireEvents(process.env, instruments('events'));
