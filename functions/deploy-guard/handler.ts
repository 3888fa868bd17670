import { wireDeployGuard } from '../../shared/lambda/deploy-guard';
import { instruments } from '../../shared/lambda/middleware';

/** The deploy guard's custom resource: answers CloudFormation whether this deploy may go ahead. */
export const handler = wireDeployGuard(instruments('deploy-guard'));
