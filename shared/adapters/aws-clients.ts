import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { instrument } from '../metering';

/**
 * One client of each kind per process (built at cold start, reused by every invocation). The
 * endpoint comes from the SDK's standard settings (AWS_ENDPOINT_URL, AWS_REGION, …), which is how
 * the same code talks to AWS, LocalStack or ministack. With TANDEM_METER=on they count their requests
 * (shared/metering.ts).
 */
let documentClient: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(instrument(new DynamoDBClient({}), 'DynamoDB'), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

export function sqsClient(): SQSClient {
  sqs ??= instrument(new SQSClient({}), 'SQS');
  return sqs;
}
