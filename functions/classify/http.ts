import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HeadstartError } from '../../src/errors.js';
import { StoreError } from '../../src/store/index.js';
import { logger } from '../../src/logger.js';

/** `{ error: { code, message } }`, the body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * HTTP status per error code. Caller mistakes are 4xx; anything unlisted is 500. "Not an image" is 400
 * (the bytes are bad whatever the declared type); a real image format we do not decode (HEIC, SVG) is 415.
 */
const STATUS_BY_CODE: Record<string, number> = {
  InvalidArgument: 400,
  EmptyBody: 400,
  EmptyImage: 400,
  NotAnImage: 400,
  CorruptImage: 400,
  ImageFailed: 400,
  MalformedJson: 400,
  MalformedMultipart: 400,
  InvalidBase64: 400,
  HeadNotFound: 404,
  FinetunedModelNotFound: 404,
  ModelNotFound: 404,
  NoSuchKey: 404,
  HeadBaseMismatch: 409,
  PayloadTooLarge: 413,
  ImageTooLarge: 413,
  ObjectTooLarge: 413,
  UnsupportedMediaType: 415,
  UnsupportedFormat: 415,
  // The service lacks a model's weights: an operator fixes it, the caller can only try another model.
  WeightsUnavailable: 503,
};

export function statusOf(error: unknown): number {
  if (error instanceof StoreError && error.transient) return 503;
  if (error instanceof HeadstartError) return STATUS_BY_CODE[error.code] ?? 500;
  return 500;
}

/** Our own errors carry messages written for the caller; anything else is hidden behind a generic one. */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof HeadstartError) return { error: { code: error.code, message: error.message } };
  return { error: { code: 'InternalError', message: 'Internal error: the request could not be completed; the service logs have the details.' } };
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The error answer; 5xx are logged with their stack (never sent), 4xx are the caller's business. */
export function errorResponse(error: unknown, event?: APIGatewayProxyEvent): APIGatewayProxyResult {
  const status = statusOf(error);
  if (status >= 500) {
    logger.error('request failed', { path: event?.path, requestId: event?.requestContext?.requestId, error });
  }
  return jsonResponse(status, errorBody(error));
}

export function binaryResponse(body: Uint8Array, contentType: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: 200, headers: { 'Content-Type': contentType, ...headers }, body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
}

/** A header by name, whatever its case (REST API events keep the client's spelling). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
