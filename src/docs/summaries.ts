/**
 * One-line summaries of the operations, by operation id (`Controller_method`). Kept here rather than
 * on each handler so the document is complete in one place; an operation missing from this table
 * gets a summary made from its handler's name (see completeDocument), so new routes are never bare.
 */
export const OPERATION_SUMMARIES: Readonly<Record<string, string>> = {
  HealthController_live: 'Liveness: the process answers',
  HealthController_ready: 'Readiness: Postgres and Redis answer',
  NetworkController_listOperators: 'List the operators',
  NetworkController_listLines: 'List the lines with their stations',
  NetworkController_getLine: 'One line with its stations',
  FaresController_listProducts: 'List the products on sale, with prices per rider category',
  FaresController_quote: 'Quote the fare of a trip between two stations',
  FaresController_createProduct: 'Create a product (admin)',
  FaresController_amendProduct: 'Amend a product with a new version (admin)',
  FaresController_createFareTable: 'Publish a new fare table version (admin)',
  FaresController_createWaiver: 'Publish a fare waiver (admin)',
  AccountsController_register: 'Register a passenger account',
  AccountsController_login: 'Log in: get an access and a refresh token',
  AccountsController_refresh: 'Exchange a refresh token for new tokens',
  AccountsController_logout: 'Log out: revoke a refresh token',
  AccountsController_me: 'The calling account',
  ConcessionsController_claim: 'Claim a concession (rider category) with evidence',
  ConcessionsController_listOwn: "List the caller's concession claims",
  ConcessionsController_getOwn: "One of the caller's concession claims",
  ConcessionsController_listForReview: 'List concession claims to review (admin)',
  ConcessionsController_decide: 'Approve or reject a concession claim (admin)',
  DevicesController_register: 'Register a validator device (admin)',
  DevicesController_disable: 'Disable a validator device (admin)',
  DevicesController_list: 'List validator devices',
  DevicesController_self: 'The calling device',
  DevicesController_token: 'Get a device access token with the device secret',
  PaymentsController_wallet: "The caller's wallet balance",
  PaymentsController_topUp: 'Start a wallet top-up payment',
  PaymentsController_webhook: 'Payment provider webhook (signed)',
  PaymentsController_completeInSandbox: 'Complete a payment in the sandbox provider (non-production)',
  OrdersController_create: 'Buy tickets: create an order',
  OrdersController_get: 'One order of the caller',
  TicketsController_list: "List the caller's tickets",
  TicketsController_get: 'One ticket of the caller',
  TicketsController_ticketQr: "A ticket's signed QR code",
  TicketsController_refund: 'Refund an unused ticket',
  TicketsController_accountQr: "The caller's account QR code (pay-as-you-go and passes)",
  TicketsController_keys: 'Public keys that verify QR codes offline',
  TicketsController_revoke: 'Revoke a ticket (admin)',
  ValidationController_batch: 'Upload taps a gate accepted offline',
  ValidationController_denylist: 'The denylist gates apply offline',
  ValidationController_block: 'Block or unblock an account at the gates (admin)',
  ValidationController_validate: 'Validate one tap at a gate',
  SettlementController_daily: "An operator's daily settlement statement",
  SettlementController_dailyCsv: 'The daily settlement statement as CSV',
  SettlementController_close: 'Close a day: freeze its statements (admin)',
  SettlementController_fareTransactions: "The day's fare transactions in TIDES fare_transactions shape",
};

/**
 * Error answers an operation gives beyond the ones every operation of its kind gives (see
 * completeDocument), by operation id, where the controller does not document them itself.
 */
export const OPERATION_ERRORS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  FaresController_quote: { '404': 'UNKNOWN_STATION or UNKNOWN_LINE: no such station or line' },
  FaresController_createFareTable: { '422': 'EFFECTIVE_FROM_IN_PAST: a new version cannot start in the past' },
  FaresController_createWaiver: { '422': 'EFFECTIVE_FROM_IN_PAST: a waiver cannot start in the past' },
  OrdersController_create: { '404': 'NOT_FOUND, UNKNOWN_STATION: a product, line or station of the order does not exist' },
  ConcessionsController_claim: { '422': 'The claim cannot be accepted as it stands (see the code)' },
  PaymentsController_webhook: { '404': 'NOT_FOUND: no such payment' },
};
