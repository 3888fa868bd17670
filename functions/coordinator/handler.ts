import {
  awsCoordinatorPorts,
  readCoordinatorSettings,
  wireCoordinator,
} from '../../shared/lambda/coordinator';
import { instruments } from '../../shared/lambda/middleware';

/** The coordinator: its queue's inputs (votes, acks, checks) drive each transaction's record. */
const settings = readCoordinatorSettings(process.env);
const coordinator = instruments('coordinator');
export const { handler } = wireCoordinator(
  settings,
  awsCoordinatorPorts(settings, process.env, coordinator.logger),
  coordinator,
);
