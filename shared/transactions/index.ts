/** The producer side of transactions: request → participants, idempotency, the public view. */
export {
  DEFAULT_TRANSFER_PARTICIPANT,
  entityRefsOf,
  planParticipants,
  type RequestIdentity,
  requestHashOf,
  requestIdentityOf,
  transferOperations,
} from './plan';
export { API_ORIGIN, parseTransactionRequest } from './request';
export {
  FAST_POLL_MS,
  FAST_POLLS,
  POLL_INTERVAL_MS,
  type SubmitRequest,
  type SubmitResult,
  Transactions,
  type TransactionsConfig,
  type TransactionsDeps,
} from './transactions';
export {
  type AcceptedView,
  type ParticipantView,
  type TransactionView,
  toAcceptedView,
  toTransactionView,
  transactionHref,
} from './view';
