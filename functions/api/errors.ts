import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import { logger } from '../../src/logger.js';
import { StoreError } from '../../src/store/index.js';

/**
 * The HTTP status of every error code the API and classify routes answer with: the one place a status is
 * decided. A code not listed is our fault: 500. Caller mistakes are 4xx; "not an image" is 400 (the bytes are
 * bad whatever the declared type), a real image format we do not decode (HEIC, SVG) is 415.
 */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // 400: the request is wrong; the message says how.
  InvalidArgument: 400,
  InvalidJson: 400,
  InvalidPath: 400,
  NotAnApiEvent: 400,
  MalformedJson: 400,
  MalformedMultipart: 400,
  InvalidBase64: 400,
  EmptyBody: 400,
  EmptyImage: 400,
  NotAnImage: 400,
  CorruptImage: 400,
  ImageFailed: 400,
  BaseModelMismatch: 400,
  InsufficientLabels: 400,
  MissingFeatures: 400,
  KeyRequired: 400,
  // 404: no such thing (RouteNotFound: no such route).
  RouteNotFound: 404,
  JobNotFound: 404,
  HeadNotFound: 404,
  FinetunedModelNotFound: 404,
  ModelNotFound: 404,
  UnknownDataset: 404,
  NoImages: 404,
  NoFeatures: 404,
  NoSuchKey: 404,
  ImageNotFound: 404,
  ReviewNotFound: 404,
  MethodNotAllowed: 405,
  // 409: it exists, but conflicts with the request or with the deployment.
  ModelIdTaken: 409,
  NotResumable: 409,
  JobFinished: 409,
  HeadBaseMismatch: 409,
  // GET /models/{id}/export: the model was republished while its bundle was built.
  ExportChanged: 409,
  // GET /jobs/{id}/results: the prediction job has not written them (queued, running, or failed before).
  ResultsNotReady: 409,
  FinetuneUnavailable: 409,
  PredictUnavailable: 409,
  IssuesUnavailable: 409,
  BackfillUnavailable: 409,
  // The dataset's feature cache needs repair (a feature missing or corrupt): POST /backfill, then retry.
  CorruptFeature: 409,
  PayloadTooLarge: 413,
  ImageTooLarge: 413,
  ObjectTooLarge: 413,
  DatasetTooLarge: 413,
  UnsupportedMediaType: 415,
  UnsupportedFormat: 415,
  // The service lacks a model's weights: an operator fixes it, the caller can only try another model.
  WeightsUnavailable: 503,
  StoreUnavailable: 503,
  // The storage has no room for a write (ENOSPC under the embedded server): an operator frees space; WebDAV's status.
  StorageFull: 507,
};

/** An error of the HTTP edge itself (routing, body parsing, a route the deployment lacks), with headers to answer with. */
export class HttpError extends HeadstartError {
  constructor(
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }

  get statusCode(): number {
    return statusOf(this);
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface ErrorResult {
  statusCode: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** The status of any error: its code's, 503 for a transient storage error, 500 for everything else. */
export function statusOf(error: unknown): number {
  if (error instanceof StoreError && error.transient) return 503;
  if (error instanceof HeadstartError) return STATUS_BY_CODE[error.code] ?? 500;
  return 500;
}

/**
 * The HTTP status and JSON body for an error. Bad input is 4xx with our message (it says what to fix);
 * a transient storage error is 503 (retry); anything else is our fault: 500, with the message of our own
 * typed errors but never a stack, and a generic message for errors we did not throw on purpose.
 */
export function errorResult(error: unknown, requestId: string): ErrorResult {
  const body = (code: string, message: string): ErrorBody => ({ error: { code, message } });
  const statusCode = statusOf(error);
  if (error instanceof StoreError && error.transient) {
    return { statusCode, body: body('StoreUnavailable', 'Storage is unavailable right now; retry in a few seconds.'), headers: { 'retry-after': '5' } };
  }
  if (error instanceof HeadstartError) {
    return { statusCode, body: body(codeOf(error), error.message), headers: error instanceof HttpError ? error.headers : {} };
  }
  return { statusCode, body: body('InternalError', `Internal error; the API logs have the details (request id ${requestId}).`), headers: {} };
}

/** The error answer; a 5xx is logged with its stack (never sent), a 4xx is the caller's business. */
export function errorResponse(error: unknown, request: { requestId: string; route: string }): ErrorResult {
  const result = errorResult(error, request.requestId);
  if (result.statusCode >= 500) logger.error('request failed', { ...request, error });
  return result;
}

/** InvalidArgumentError subclasses share the code 'InvalidArgument'; their class name is more telling. */
function codeOf(error: HeadstartError): string {
  return error instanceof InvalidArgumentError && error.name !== 'InvalidArgumentError' ? error.name.replace(/Error$/, '') : error.code;
}
