import { HeadstartError } from '../errors.js';

/** Where a store error happened; kept on the error for logs and dead letters. */
export interface StoreErrorContext {
  bucket?: string;
  key?: string;
  operation?: string;
  cause?: unknown;
}

/**
 * The root of the store's errors. `transient` tells a caller whether the same request may succeed
 * when retried later (throttling, 5xx, network); `code` is the S3 error code when there is one.
 */
export class StoreError extends HeadstartError {
  readonly transient: boolean;
  readonly bucket?: string;
  readonly key?: string;
  readonly operation?: string;

  constructor(code: string, message: string, context: StoreErrorContext & { transient?: boolean } = {}) {
    super(code, message, { cause: context.cause });
    this.transient = context.transient ?? false;
    this.bucket = context.bucket;
    this.key = context.key;
    this.operation = context.operation;
  }
}

/** The key does not exist (S3 `NoSuchKey`). */
export class ObjectNotFoundError extends StoreError {
  constructor(bucket: string, key: string, options: { operation?: string; cause?: unknown } = {}) {
    super('NoSuchKey', `Object '${key}' does not exist in bucket '${bucket}'.`, { ...options, bucket, key });
  }
}

/** The store could not serve the request right now (throttling, 5xx, timeout, network); retry later. */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, context: StoreErrorContext & { code?: string } = {}) {
    super(context.code ?? 'StoreUnavailable', message, { ...context, transient: true });
  }
}

/**
 * The storage has no room for the write (a full disk under the embedded server or a folder store; MinIO's
 * `XMinioStorageFull`, HTTP 507). Not transient: retrying cannot help until someone frees space.
 */
export class StorageFullError extends StoreError {
  constructor(message: string, context: StoreErrorContext = {}) {
    super('StorageFull', message, { ...context, transient: false });
  }
}
