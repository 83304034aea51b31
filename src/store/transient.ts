/**
 * Which failures are worth retrying. The lists follow the AWS SDK's own classification
 * (@smithy/service-error-classification) so that a caller retrying on top of the SDK agrees with it.
 */

/** S3 and AWS throttling error codes. */
export const THROTTLING_ERROR_CODES: ReadonlySet<string> = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'TransactionInProgressException',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

/** Error codes of requests that failed on the way, not because of what they asked. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
]);

/** Node socket and DNS error codes that a retry can cure. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TRANSIENT_STATUS_CODES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  transient?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * True when retrying the failed operation later may succeed: our own errors marked `transient`,
 * AWS throttling and timeout codes, HTTP 429 and 5xx, and socket errors. Follows `cause` chains.
 */
export function isTransientError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (isTransientItself(current as ErrorLike)) return true;
    current = (current as ErrorLike).cause;
  }
  return false;
}

function isTransientItself(e: ErrorLike): boolean {
  if (typeof e.transient === 'boolean') return e.transient;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const names = [e.name, e.code].filter((v): v is string => typeof v === 'string');
  if (names.some((n) => THROTTLING_ERROR_CODES.has(n) || TRANSIENT_ERROR_CODES.has(n) || NETWORK_ERROR_CODES.has(n))) {
    return true;
  }
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && TRANSIENT_STATUS_CODES.has(status);
}
