/** The Step Functions saga the cost is compared with: the same transfer, its cheapest case. */
import { type Cost, costLine, sumCost } from './cost';
import type { PriceTable } from './prices';
import { checkParticipants } from './protocol-minimum';

export interface SagaCost extends Cost {
  readonly participants: number;
  readonly stateTransitions: number;
  readonly writeUnits: number;
  readonly apiRequests: number;
  readonly assumptions: readonly string[];
}

/**
 * The happy path of the same transfer as a Step Functions Standard saga, for comparison:
 * API Gateway starts the execution by direct integration (1 API request, no Lambda); the states
 * entered are 1 (record the transfer: DynamoDB PutItem by direct SDK integration) + N (one step
 * per participant, a conditional UpdateItem) + 1 (record the outcome) + 1 (Succeed) = N + 3 state
 * transitions; DynamoDB writes N + 2, 1 WRU each (plain writes of items under 1 KB). A failure's
 * compensations would add transitions and writes: this is the saga's cheapest case.
 */
export function stepFunctionsSagaCost(participants: number, prices: PriceTable): SagaCost {
  checkParticipants(participants);
  const p = prices.unitPrices;
  const apiRequests = 1;
  const stateTransitions = participants + 3;
  const writeUnits = participants + 2;
  const cost = sumCost([
    costLine('API Gateway HTTP API requests', apiRequests, p.apiGatewayHttpRequest),
    costLine('Step Functions Standard state transitions', stateTransitions, p.stepFunctionsStateTransition),
    costLine('DynamoDB write request units', writeUnits, p.dynamodbWriteRequestUnit),
  ]);
  return {
    ...cost,
    participants,
    stateTransitions,
    writeUnits,
    apiRequests,
    assumptions: [
      'API Gateway HTTP API starts the execution by direct integration (StartExecution): 1 request, no Lambda.',
      `States entered: record the transfer (PutItem by direct SDK integration), one conditional UpdateItem per participant (${participants}), record the outcome, Succeed: N + 3 = ${stateTransitions} state transitions.`,
      `DynamoDB: N + 2 = ${writeUnits} plain (non-transactional) writes of items under 1 KB, 1 WRU each.`,
      'Happy path only, the cheapest case for the saga: a failure adds compensating steps (more transitions and writes), retries add transitions.',
      'The client learns the outcome by other means (not priced), as Standard executions are asynchronous.',
    ],
  };
}
