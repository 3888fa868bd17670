import { intakeLambdaHandler } from '../../shared/intake/handler';

/**
 * Tandem's own intake function: an event intake without a mapping (the event's `detail` is the
 * request) or a requests queue (the message body is the request). Which one, from INTAKE_KIND.
 */
export const handler = intakeLambdaHandler();
