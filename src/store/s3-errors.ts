import { InvalidArgumentError } from '../errors.js';
import { ObjectNotFoundError, StorageFullError, StoreError, StoreUnavailableError } from './errors.js';
import { isTransientError } from './transient.js';

interface SdkErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** What was being done when the SDK failed: named in every message. */
export interface S3Operation {
  operation: string;
  bucket: string;
  key?: string;
}

/**
 * Turns an AWS SDK failure into the store's typed errors, keeping the original as `cause`:
 * NoSuchKey (and HEAD's bare 404) → ObjectNotFoundError, throttling/5xx/network → StoreUnavailableError
 * (transient), a full disk (MinIO's XMinioStorageFull, HTTP 507) → StorageFullError, InvalidArgument → InvalidArgumentError, anything else → StoreError with the S3 code.
 */
export function toStoreError(err: unknown, op: S3Operation): Error {
  if (err instanceof StoreError || err instanceof InvalidArgumentError) return err;
  const sdk = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  const code = sdk.name ?? 'Unknown';
  const status = sdk.$metadata?.httpStatusCode;
  if (op.key !== undefined && (code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket'))) {
    return new ObjectNotFoundError(op.bucket, op.key, { operation: op.operation, cause: err });
  }
  const where = op.key === undefined ? `bucket '${op.bucket}'` : `'${op.key}' in bucket '${op.bucket}'`;
  const detail = `${code}${status ? ` (HTTP ${status})` : ''}: ${sdk.message ?? String(err)}`;
  // Before the transient check: a 5xx, but one no retry cures.
  if (code === 'XMinioStorageFull' || status === 507) {
    return new StorageFullError(`Storage is full: S3 ${op.operation} on ${where} failed: ${detail}`, { ...op, cause: err });
  }
  if (isTransientError(err)) {
    return new StoreUnavailableError(`S3 ${op.operation} on ${where} failed and may succeed if retried: ${detail}`, {
      ...op,
      code,
      cause: err,
    });
  }
  if (code === 'InvalidArgument') {
    return new InvalidArgumentError(`S3 ${op.operation} on ${where} was rejected: ${detail}`, { cause: err });
  }
  return new StoreError(code, `S3 ${op.operation} on ${where} failed: ${detail}`, { ...op, cause: err });
}
