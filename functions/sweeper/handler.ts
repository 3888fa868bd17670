import { readCoordinatorEnv } from '../../shared/coordinator/config';
import { instruments } from '../../shared/lambda/middleware';
import { awsRecoveryPorts, wireSweeper } from '../../shared/lambda/recovery';

/** Runs on a schedule: re-drives every transaction whose next check time has passed. */
const sweeper = instruments('sweeper');
export const handler = wireSweeper(
  awsRecoveryPorts(readCoordinatorEnv(process.env), process.env, sweeper.logger),
  sweeper,
);
