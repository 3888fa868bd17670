import { Logger } from '@aws-lambda-powertools/logger';
import { dynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { createApi } from '../../shared/api/app';
import { readApiConfig } from '../../shared/config';
import { Items } from '../../shared/inventory/items';
import { Accounts } from '../../shared/ledger/accounts';

const logger = new Logger({ serviceName: 'tandem-api' });
const config = readApiConfig();
const client = dynamoDocumentClient();

export const handler = createApi({
  accounts: new Accounts(new DynamoEntityStore(client, 'account', config.ledgerShardTables)),
  items: new Items(new DynamoEntityStore(client, 'item', [config.inventoryTable])),
  nowMs: Date.now,
  onServerError: (error, event) => logger.error('request failed', { error, routeKey: event.routeKey }),
});
