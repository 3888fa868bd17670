/** The producer side of transactions: request → participants, idempotency, the public view. */
export {
  DEFAULT_TRANSFER_PARTICIPANT,
  entityRefsOf,
  planParticipants,
  requestHashOf,
  requestIdentityOf,
  transferOperations,
} from './plan';
export { API_ORIGIN, parseTransactionRequest } from './request';
export {
  type SubmitRequest,
  type SubmitResult,
  Transactions,
} from './transactions';
export {
  toAcceptedView,
  toTransactionView,
  transactionHref,
} from './view';
