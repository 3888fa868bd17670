import { readCoordinatorEnv } from '../../shared/coordinator/config';
import { instruments } from '../../shared/lambda/middleware';
import { awsRecoveryPorts, wireTimers } from '../../shared/lambda/recovery';

/** The timers: each fired timer forwards a Check to the coordinator when its transaction needs one. */
const timers = instruments('timers');
export const { handler } = wireTimers(
  awsRecoveryPorts(readCoordinatorEnv(process.env), process.env, timers.logger),
  timers,
);
