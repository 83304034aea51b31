import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { ObjectNotFoundError, StoreError, StoreUnavailableError } from '../../../src/store/errors.js';
import { S3Store } from '../../../src/store/s3.js';
import { isTransientError } from '../../../src/store/transient.js';

/** An S3 error as the SDK deserializes it from a response. */
function s3Error(name: string, status: number, message: string, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status, requestId: 'REQ1' }, message });
}

const s3 = mockClient(S3Client);
const store = new S3Store(new S3Client({ region: 'us-east-1' }), 'bkt');

afterEach(() => {
  s3.reset();
});

describe('S3Store error mapping', () => {
  it('turns SlowDown (503) into a transient StoreUnavailableError that keeps the cause', async () => {
    const cause = s3Error('SlowDown', 503, 'Please reduce your request rate.');
    s3.on(PutObjectCommand).rejects(cause);
    const err = await store.put('images/a.jpg', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ code: 'SlowDown', transient: true, bucket: 'bkt', key: 'images/a.jpg', operation: 'PutObject', cause });
    expect((err as Error).message).toBe(
      "S3 PutObject on 'images/a.jpg' in bucket 'bkt' failed and may succeed if retried: SlowDown (HTTP 503): Please reduce your request rate.",
    );
    expect(isTransientError(err)).toBe(true);
  });

  it('turns an InternalError 500 into StoreUnavailableError', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('InternalError', 500, 'We encountered an internal error. Please try again.'));
    const err = await store.get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ code: 'InternalError', transient: true });
  });

  it('turns NoSuchKey into ObjectNotFoundError, not transient', async () => {
    const cause = new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    s3.on(GetObjectCommand).rejects(cause);
    const err = await store.get('images/missing.jpg').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectNotFoundError);
    expect(err).toMatchObject({ code: 'NoSuchKey', transient: false, cause });
    expect((err as Error).message).toBe("Object 'images/missing.jpg' does not exist in bucket 'bkt'.");
    expect(isTransientError(err)).toBe(false);
  });

  it("reads HEAD's bare 404 as a missing object and rethrows other HEAD failures typed", async () => {
    s3.on(HeadObjectCommand).rejectsOnce(s3Error('NotFound', 404, 'UnknownError')).rejectsOnce(s3Error('Forbidden', 403, 'UnknownError'));
    expect(await store.head('gone')).toBeUndefined();
    const err = await store.head('secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ code: 'Forbidden', transient: false });
  });

  it('keeps a missing bucket distinct from a missing key', async () => {
    s3.on(GetObjectCommand).rejects(s3Error('NoSuchBucket', 404, 'The specified bucket does not exist'));
    const err = await store.get('k').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ObjectNotFoundError);
    expect(err).toMatchObject({ code: 'NoSuchBucket', message: "S3 GetObject on 'k' in bucket 'bkt' failed: NoSuchBucket (HTTP 404): The specified bucket does not exist" });
  });

  it('turns network failures and timeouts into StoreUnavailableError', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    s3.on(ListObjectsV2Command).rejectsOnce(reset).rejectsOnce(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    await expect(store.list('images/')).rejects.toMatchObject({ name: 'StoreUnavailableError', transient: true, cause: reset });
    await expect(store.list('images/')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('turns InvalidArgument into InvalidArgumentError', async () => {
    s3.on(ListObjectsV2Command).rejects(s3Error('InvalidArgument', 400, 'The continuation token provided is incorrect'));
    await expect(store.list('p', { continuationToken: 'x' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('validates keys before sending anything', async () => {
    await expect(store.get('k'.repeat(1025))).rejects.toThrow('Object key is 1025 bytes of UTF-8; S3 allows at most 1024.');
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('S3Store requests', () => {
  it('sends small bodies as one PutObject with content type and metadata', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put('features/a.safetensors', Buffer.from([1, 2]), { contentType: 'application/octet-stream', metadata: { model: 'vgg16' } });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'bkt',
      Key: 'features/a.safetensors',
      ContentType: 'application/octet-stream',
      Metadata: { model: 'vgg16' },
    });
  });

  it('maps a listing page, unquoting etags and passing the token on', async () => {
    s3.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'p/a', Size: 3, ETag: '"abc"', LastModified: new Date(0) }],
      CommonPrefixes: [{ Prefix: 'p/d/' }],
      IsTruncated: true,
      NextContinuationToken: 'T2',
    });
    const page = await store.list('p/', { delimiter: '/', maxKeys: 2, continuationToken: 'T1' });
    expect(page).toEqual({ objects: [{ key: 'p/a', size: 3, etag: 'abc', lastModified: new Date(0) }], commonPrefixes: ['p/d/'], nextToken: 'T2' });
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toEqual({
      Bucket: 'bkt',
      Prefix: 'p/',
      Delimiter: '/',
      MaxKeys: 2,
      ContinuationToken: 'T1',
    });
  });
});

describe('S3Store options', () => {
  it("rejects a part size below S3's minimum", () => {
    expect(() => new S3Store(new S3Client({ region: 'us-east-1' }), 'bkt', { partSizeBytes: 1024 })).toThrow(
      new InvalidArgumentError("partSizeBytes must be an integer of at least 5242880 (S3's 5 MiB minimum), got 1024."),
    );
  });
});
