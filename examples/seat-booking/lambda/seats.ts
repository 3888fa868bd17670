import { participantHandler } from 'tandem/participant';
import { seats } from '../lib/seats.ts';

/** The seat-booking service's participant function: Tandem's SDK runs the protocol around it. */
export const handler = participantHandler(seats);
