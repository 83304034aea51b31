/**
 * A full disk answered as a full disk. s3rver turns any error of its store into `500 InternalError` ("please
 * try again"), which every client, ours included, reads as a passing hiccup: the SDK retries, the API answers
 * 503 "retry in a few seconds", for ever. A write that fails with ENOSPC (or EDQUOT, a quota) is answered
 * instead as MinIO answers it, `507 XMinioStorageFull` (the S3-compatible server whose codes clients know),
 * and logged once per object with the file that could not be written.
 */
import { SortedFilesystemStore } from './sorted-store.js';
import { S3Error, type S3rverObject } from './s3rver.js';
import { logger } from '../../src/logger.js';

/** MinIO's error code and HTTP status for a full drive. */
export const STORAGE_FULL_CODE = 'XMinioStorageFull';
export const STORAGE_FULL_STATUS = 507;

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** True for the errno of a write that failed for want of space. */
export function isDiskFull(error: unknown): boolean {
  return FULL.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The S3 error the client gets, and the log line the operator gets, naming the file. */
function storageFull(error: unknown, what: string, file: string): Error {
  logger.error(`local S3: the disk is full: could not write ${what} to ${file}`, { path: file, code: (error as NodeJS.ErrnoException).code });
  const answer = new S3Error(STORAGE_FULL_CODE, `The disk holding the bucket's data is full (${(error as NodeJS.ErrnoException).code} writing ${file}); free some space and retry.`);
  return Object.assign(answer, { status: STORAGE_FULL_STATUS, expose: true, cause: error });
}

/** The sorted store (sorted-store.ts) with its writes' ENOSPC answered as 507 XMinioStorageFull. */
export class DiskAwareStore extends SortedFilesystemStore {
  /** Called with the file after a write failed for want of space (the parent starts watching the disk). */
  onFull: ((file: string) => void) | undefined;

  override async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    return this.guard(`'${object.key}'`, this.getResourcePath(object.bucket, object.key, 'object'), () => super.putObject(object));
  }

  override async putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void> {
    return this.guard(`the metadata of '${key}'`, this.getResourcePath(bucket, key, 'metadata.json'), () => super.putMetadata(bucket, key, metadata, md5));
  }

  /** Public for the guarded methods defined below the class. @internal */
  async guard<T>(what: string, file: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      this.onFull?.(file);
      throw storageFull(error, what, file);
    }
  }
}

/** s3rver's other writes (copies, multipart parts and their assembly), guarded the same way: not in its typings. */
const OTHER_WRITES: Record<string, (store: DiskAwareStore, args: unknown[]) => [what: string, file: string]> = {
  copyObject: (store, [, , bucket, key]) => [`'${String(key)}' (a copy)`, store.getResourcePath(String(bucket), String(key), 'object')],
  putPart: (store, [bucket, uploadId, part]) => [`part ${String(part)} of upload ${String(uploadId)}`, store.getBucketPath(String(bucket))],
  putObjectMultipart: (store, [bucket, uploadId]) => [`the object of upload ${String(uploadId)}`, store.getBucketPath(String(bucket))],
};
type Write = (this: DiskAwareStore, ...args: unknown[]) => Promise<unknown>;
const prototype = DiskAwareStore.prototype as unknown as Record<string, Write> & { guard: DiskAwareStore['guard'] };
for (const [method, describe] of Object.entries(OTHER_WRITES)) {
  const base = (SortedFilesystemStore.prototype as unknown as Record<string, Write>)[method]!;
  prototype[method] = function (this: DiskAwareStore, ...args: unknown[]) {
    const [what, file] = describe(this, args);
    return prototype.guard.call(this, what, file, () => base.apply(this, args));
  };
}
