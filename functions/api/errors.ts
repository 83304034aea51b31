import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import { StoreError } from '../../src/store/index.js';

/** An error that already knows its HTTP status (routing, body parsing). */
export class HttpError extends HeadstartError {
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** Codes of our typed errors that mean "no such thing": 404. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['JobNotFound', 'HeadNotFound', 'FinetunedModelNotFound', 'UnknownDataset', 'NoFeatures']);
/** Codes of a request that conflicts with what exists: 409. */
const CONFLICT_CODES: ReadonlySet<string> = new Set(['ModelIdTaken', 'NotResumable', 'FinetuneUnavailable']);
/** Codes that are the caller's to fix though they are not InvalidArgumentErrors: 400. */
const BAD_REQUEST_CODES: ReadonlySet<string> = new Set(['BaseModelMismatch', 'InsufficientLabels', 'MissingFeatures']);

export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * The HTTP status and JSON body for an error. Bad input is 4xx with our message (it says what to fix);
 * a transient storage error is 503 (retry); anything else is our fault: 500, with the message of our own
 * typed errors but never a stack, and a generic message for errors we did not throw on purpose.
 */
export function errorResult(error: unknown, requestId: string): { statusCode: number; body: ErrorBody; headers: Record<string, string> } {
  const body = (code: string, message: string): ErrorBody => ({ error: { code, message } });
  if (error instanceof HttpError) return { statusCode: error.statusCode, body: body(error.code, error.message), headers: error.headers };
  if (error instanceof StoreError && error.transient) {
    return { statusCode: 503, body: body('StoreUnavailable', 'Storage is unavailable right now; retry in a few seconds.'), headers: { 'retry-after': '5' } };
  }
  if (error instanceof InvalidArgumentError) return { statusCode: 400, body: body(codeOf(error), error.message), headers: {} };
  if (error instanceof HeadstartError) {
    const status = NOT_FOUND_CODES.has(error.code) ? 404 : CONFLICT_CODES.has(error.code) ? 409 : BAD_REQUEST_CODES.has(error.code) ? 400 : 500;
    return { statusCode: status, body: body(error.code, error.message), headers: {} };
  }
  return { statusCode: 500, body: body('InternalError', `Internal error; the API logs have the details (request id ${requestId}).`), headers: {} };
}

/** InvalidArgumentError subclasses share the code 'InvalidArgument'; their class name is more telling. */
function codeOf(error: InvalidArgumentError): string {
  return error.name !== 'InvalidArgumentError' ? error.name.replace(/Error$/, '') : error.code;
}
