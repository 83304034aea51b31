import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeObjectStore } from '../helpers/store-suite.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

describeObjectStore('S3Store on the embedded s3rver', async () => {
  const t = await startTestS3();
  return { store: t.store, teardown: () => t.stop() };
});

describe('ListObjectsV2 on the embedded server (s3rver DES tokens replaced)', () => {
  let t: TestS3;
  beforeAll(async () => {
    t = await startTestS3();
    for (const k of ['a', 'b', 'c', 'd', 'e']) await t.store.put(`v2/${k}`, k);
  });
  afterAll(async () => t.stop());

  const list = (input: Partial<ConstructorParameters<typeof ListObjectsV2Command>[0]>) =>
    t.client.send(new ListObjectsV2Command({ Bucket: t.s3.bucket, Prefix: 'v2/', ...input }));

  it('pages with continuation tokens and echoes the V2 fields', async () => {
    const first = await list({ MaxKeys: 2 });
    expect(first).toMatchObject({ IsTruncated: true, KeyCount: 2, MaxKeys: 2 });
    expect(first.Contents?.map((c) => c.Key)).toEqual(['v2/a', 'v2/b']);
    expect(first.Contents?.[0]?.Owner).toBeUndefined();
    const second = await list({ MaxKeys: 2, ContinuationToken: first.NextContinuationToken });
    expect(second).toMatchObject({ IsTruncated: true, ContinuationToken: first.NextContinuationToken });
    expect(second.Contents?.map((c) => c.Key)).toEqual(['v2/c', 'v2/d']);
    const last = await list({ MaxKeys: 2, ContinuationToken: second.NextContinuationToken });
    expect(last).toMatchObject({ IsTruncated: false, KeyCount: 1 });
    expect(last.NextContinuationToken).toBeUndefined();
  });

  it('honours StartAfter and FetchOwner', async () => {
    const r = await list({ StartAfter: 'v2/c', FetchOwner: true });
    expect(r.StartAfter).toBe('v2/c');
    expect(r.Contents?.map((c) => c.Key)).toEqual(['v2/d', 'v2/e']);
    expect(r.Contents?.[0]?.Owner?.ID).toBeTruthy();
  });

  it('rejects a token it did not issue', async () => {
    await expect(list({ ContinuationToken: Buffer.from('us-east-1/other/v2/a').toString('base64') })).rejects.toMatchObject({
      name: 'InvalidArgument',
      message: 'The continuation token provided is incorrect',
    });
  });
});

describe('createS3Client against the embedded server', () => {
  let t: TestS3;
  beforeAll(async () => {
    t = await startTestS3();
  });
  afterAll(async () => t.stop());

  it('sends a raw stream PutObject without aws-chunked framing (stored byte-exact)', async () => {
    // With the SDK's default checksums this body is stored as "6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:...".
    const body = Readable.from([Buffer.from('hello '), Buffer.from('world')]);
    await t.client.send(new PutObjectCommand({ Bucket: t.s3.bucket, Key: 'raw/stream.txt', Body: body, ContentLength: 11 }));
    expect((await t.store.get('raw/stream.txt')).toString()).toBe('hello world');
  });
});
