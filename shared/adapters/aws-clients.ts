import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One DynamoDB document client per process (built at cold start, reused by every invocation).
 * The endpoint comes from the SDK's standard settings (AWS_ENDPOINT_URL, AWS_REGION, …), which is
 * how the same code talks to AWS, LocalStack or ministack.
 */
let documentClient: DynamoDBDocumentClient | undefined;

export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}
