/**
 * Which bucket names, keys and upload ids the embedded server accepts. s3rver joins them into file paths as
 * they come (`images/..%2F..%2Fx` decodes to a path outside the data directory, `images/../jobs/<id>.json` to
 * another prefix's object), so each is checked before any path is built: a key with an empty, '.' or '..'
 * segment, a leading '/' or a NUL byte is refused (src/layout.ts never builds one), a bucket name follows
 * S3's rule, and an upload id or part number is what s3rver and S3 hand out. Refusals are S3's errors.
 */
import { safePath } from '../../src/layout.js';
import { S3Error } from './s3rver.js';

/** S3's rule for bucket names (3–63 lower-case letters, digits, '.' and '-'), so a name is never '..' or a path. */
const BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The ids s3rver gives multipart uploads (16 random bytes, hex), and S3's part numbers. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_NUMBER = /^[1-9][0-9]{0,4}$/;

export function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
}

export function checkKey(key: string): void {
  try {
    safePath(key);
  } catch (error) {
    throw new S3Error('InvalidArgument', (error as Error).message, { ArgumentName: 'key', ArgumentValue: key });
  }
  if (key.includes('\0')) throw new S3Error('InvalidArgument', `Invalid key ${JSON.stringify(key)}: it has a NUL byte.`, { ArgumentName: 'key', ArgumentValue: key });
}

export function checkUpload(uploadId: string, partNumbers: Array<string | number> = []): void {
  if (!UPLOAD_ID.test(String(uploadId))) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: String(uploadId) });
  for (const part of partNumbers) {
    if (!PART_NUMBER.test(String(part)) || Number(part) > 10_000) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.', { ArgumentName: 'partNumber', ArgumentValue: String(part) });
    }
  }
}

/**
 * Koa middleware: the bucket and key of a path-style request (`/<bucket>/<key…>`, decoded as s3rver's router
 * decodes them) checked before it is routed. The store checks again (sorted-store.ts) for the keys that come
 * in bodies and headers: DeleteObjects, a copy source, a multipart upload's parts.
 */
export function refuseUnsafeNames() {
  return async function refuseUnsafeNames(ctx: { path: string }, next: () => Promise<unknown>) {
    const [, bucket, ...rest] = ctx.path.split('/');
    const decode = (part: string) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new S3Error('InvalidURI', `Couldn't parse the specified URI: ${JSON.stringify(part)}.`);
      }
    };
    if (bucket) checkBucket(decode(bucket));
    if (rest.length > 0 && !(rest.length === 1 && rest[0] === '')) checkKey(decode(rest.join('/')));
    return next();
  };
}
