import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { sendResponse } from '../adapters/cfn-response';
import { decide, type GuardAnswer } from '../deploy-guard';
import { type Instruments, lambdaHandler } from './middleware';

/** The deploy guard's custom resource: answers CloudFormation whether this deploy may go ahead. */
export function wireDeployGuard(instrumented: Instruments) {
  const { logger } = instrumented;
  return lambdaHandler(instrumented, async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    let answer: GuardAnswer;
    try {
      answer = decide(event);
    } catch (error) {
      // A bug here must still answer, or CloudFormation waits for the resource's ServiceTimeout.
      logger.error('deploy guard failed', { error });
      answer = {
        status: 'FAILED',
        physicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : event.RequestId,
        reason: `Tandem's deploy guard failed: ${(error as Error).message}`,
      };
    }
    // The ResponseURL is a presigned URL: it is never logged.
    logger.info('deploy guard answered', {
      requestType: event.RequestType,
      logicalResourceId: event.LogicalResourceId,
      ...answer,
    });
    await sendResponse(event, answer);
  });
}
