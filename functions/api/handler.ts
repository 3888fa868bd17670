import { Logger } from '@aws-lambda-powertools/logger';
import { dynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { DynamoAccountStore } from '../../shared/adapters/dynamo-accounts';
import { createApi } from '../../shared/api/app';
import { readApiConfig } from '../../shared/config';
import { Accounts } from '../../shared/ledger/accounts';

const logger = new Logger({ serviceName: 'tandem-api' });
const config = readApiConfig();
const api = createApi({
  accounts: new Accounts(new DynamoAccountStore(dynamoDocumentClient(), config.ledgerShardTables)),
  nowMs: Date.now,
  onServerError: (error, event) => logger.error('request failed', { error, routeKey: event.routeKey }),
});

export const handler = api;
