import { wireApi } from '../../shared/lambda/api';
import { instruments } from '../../shared/lambda/middleware';

/** The HTTP API: transactions in, their state and the entities' balances out. */
export const handler = wireApi(process.env, instruments('api'));
