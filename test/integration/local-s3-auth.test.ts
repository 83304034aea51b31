/**
 * The embedded S3 port checks who is calling (issue 15): every request needs a SigV4 signature made with
 * the installation's credentials, presigned URLs are held to their method, path, expiry and signature, and
 * no key ever maps outside its bucket's folder. Requests go out raw (node:http, the path exactly as written:
 * fetch would normalise `..`), signed by @smithy/signature-v4 as the SDK signs them, or by the SDK itself.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3UploadSigner } from '../../functions/api/uploads.js';
import { Sha256 } from '../../local/sha256.js';
import { startLocalS3 } from '../../local/s3/server.js';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { CREDENTIALS_FILE, type LocalS3Credentials } from '../../src/store/local-credentials.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

interface Reply {
  status: number;
  body: string;
  code?: string;
}

const JOB = JSON.stringify({ jobId: 'j1', status: 'succeeded' });

let t: TestS3;
let host: string;
let port: number;

/** One request with the path sent byte for byte as given. */
function send(method: string, pathAndQuery: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: pathAndQuery, headers: { host, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, body: text, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const signer = (credentials: LocalS3Credentials) => new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });

const serialise = (query: Record<string, string>) =>
  Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');

/** The headers of a header-signed request for `path` (as sent, percent-encoded), with the payload hash given. */
async function signedHeaders(method: string, rawPath: string, options: { payload?: string; date?: Date; credentials?: LocalS3Credentials; query?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const signed = await signer(options.credentials ?? t.s3.credentials).sign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: rawPath,
      query: options.query ?? {},
      headers: { host, 'x-amz-content-sha256': options.payload ?? 'UNSIGNED-PAYLOAD', ...options.headers },
    },
    { signingDate: options.date ?? new Date() },
  );
  return signed.headers as Record<string, string>;
}

async function sendSigned(method: string, rawPath: string, body?: string, options: Parameters<typeof signedHeaders>[2] = {}): Promise<Reply> {
  const headers = await signedHeaders(method, rawPath, options);
  const query = options.query ? `?${serialise(options.query)}` : '';
  return send(method, rawPath + query, headers, body);
}

/** A presigned URL's path and query, from the SDK's presigner. */
async function presigned(command: PutObjectCommand | GetObjectCommand, options: { expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
  const url = new URL(await getSignedUrl(t.client, command, { expiresIn: options.expiresIn ?? 300, signingDate: options.signingDate }));
  return url.pathname + url.search;
}

const withParam = (pathAndQuery: string, name: string, value: string) => {
  const [p, q] = pathAndQuery.split('?') as [string, string];
  const params = new URLSearchParams(q);
  params.set(name, value);
  return `${p}?${params.toString()}`;
};

beforeAll(async () => {
  t = await startTestS3();
  host = new URL(t.s3.endpoint).host;
  port = Number(new URL(t.s3.endpoint).port);
  await t.store.put('jobs/j1.json', Buffer.from(JOB), { contentType: 'application/json' });
  await t.store.put('models/heads/h1/model.json', Buffer.from('{"head":1}'));
});

afterAll(async () => {
  await t?.stop();
});

describe('the S3 port refuses requests without a valid signature', () => {
  it('anonymous GET, PUT, DELETE and listings on jobs/ and models/ get 403 AccessDenied and change nothing', async () => {
    const replies = [
      await send('GET', '/headstart/jobs/j1.json'),
      await send('GET', '/headstart/models/heads/h1/model.json'),
      await send('PUT', '/headstart/jobs/j1.json', { 'content-type': 'application/json' }, '{"status":"failed"}'),
      await send('PUT', '/headstart/models/heads/evil/model.json', {}, 'x'),
      await send('DELETE', '/headstart/jobs/j1.json'),
      await send('GET', '/headstart?list-type=2&prefix=jobs/'),
      await send('GET', '/'),
    ];
    for (const reply of replies) expect([reply.status, reply.code]).toEqual([403, 'AccessDenied']);
    expect(replies[0]!.body).toContain('Anonymous access is not allowed');
    expect((await t.store.get('jobs/j1.json')).toString()).toBe(JOB);
    expect((await t.store.list('models/heads/evil/')).objects).toEqual([]);
  });

  it('a zeroed signature, a signature replayed on another path and a changed signed header get 403 SignatureDoesNotMatch', async () => {
    const headers = await signedHeaders('GET', '/headstart/jobs/j1.json');
    expect((await send('GET', '/headstart/jobs/j1.json', headers)).status).toBe(200);

    const zeroed = { ...headers, authorization: headers.authorization!.replace(/Signature=[0-9a-f]+/, `Signature=${'0'.repeat(64)}`) };
    const otherDate = { ...headers, 'x-amz-date': headers['x-amz-date']!.replace(/\d{2}Z$/, (s) => `${String((Number(s.slice(0, 2)) + 1) % 60).padStart(2, '0')}Z`) };
    for (const [pathAndQuery, h] of [
      ['/headstart/jobs/j1.json', zeroed],
      ['/headstart/models/heads/h1/model.json', headers],
      ['/headstart/jobs/j1.json?x-id=GetObject', headers],
      ['/headstart/jobs/j1.json', otherDate],
    ] as const) {
      const reply = await send('GET', pathAndQuery, h);
      expect([pathAndQuery, reply.status, reply.code]).toEqual([pathAndQuery, 403, 'SignatureDoesNotMatch']);
    }
    // The same signature for a DELETE: the method is signed too.
    expect((await send('DELETE', '/headstart/jobs/j1.json', headers)).code).toBe('SignatureDoesNotMatch');
    expect((await t.store.get('jobs/j1.json')).toString()).toBe(JOB);
  });

  it('an SDK client with the wrong secret gets SignatureDoesNotMatch, one with another key id InvalidAccessKeyId', async () => {
    const wrongSecret = createS3Client({ endpoint: t.s3.endpoint, credentials: { accessKeyId: t.s3.credentials.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const otherKey = createS3Client({ endpoint: t.s3.endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const get = new GetObjectCommand({ Bucket: t.s3.bucket, Key: 'jobs/j1.json' });
      await expect(wrongSecret.send(get)).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
      await expect(otherKey.send(get)).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
      const put = new PutObjectCommand({ Bucket: t.s3.bucket, Key: 'jobs/j1.json', Body: 'overwritten' });
      await expect(wrongSecret.send(put)).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      expect((await t.store.get('jobs/j1.json')).toString()).toBe(JOB);
    } finally {
      wrongSecret.destroy();
      otherKey.destroy();
    }
  });

  it('a request signed 20 minutes ago gets RequestTimeTooSkewed; version-2 signatures get AccessDenied', async () => {
    const old = await sendSigned('GET', '/headstart/jobs/j1.json', undefined, { date: new Date(Date.now() - 20 * 60_000) });
    expect([old.status, old.code]).toEqual([403, 'RequestTimeTooSkewed']);
    const v2 = await send('GET', '/headstart/jobs/j1.json', { authorization: `AWS ${t.s3.credentials.accessKeyId}:c2lnbmF0dXJl`, date: new Date().toUTCString() });
    expect([v2.status, v2.code]).toEqual([403, 'AccessDenied']);
    const v2Query = await send('GET', `/headstart/jobs/j1.json?AWSAccessKeyId=${t.s3.credentials.accessKeyId}&Expires=9999999999&Signature=abc`);
    expect([v2Query.status, v2Query.code]).toEqual([403, 'AccessDenied']);
  });

  it('checks the seed signature of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload and accepts UNSIGNED-PAYLOAD', async () => {
    const streaming = { payload: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '0' } };
    const headers = await signedHeaders('PUT', '/headstart/images/stream/a.bin', streaming);
    const tampered = { ...headers, authorization: headers.authorization!.replace(/Signature=[0-9a-f]{8}/, 'Signature=00000000') };
    expect((await send('PUT', '/headstart/images/stream/a.bin', tampered, '0;chunk-signature=00\r\n\r\n')).code).toBe('SignatureDoesNotMatch');
    expect((await send('PUT', '/headstart/images/stream/a.bin', headers, '0;chunk-signature=00\r\n\r\n')).status).toBe(200);
    const unsigned = await sendSigned('PUT', '/headstart/images/stream/b.bin', 'bytes', { payload: 'UNSIGNED-PAYLOAD' });
    expect(unsigned.status).toBe(200);
    expect((await t.store.get('images/stream/b.bin')).toString()).toBe('bytes');
  });

  it('a body that does not match its signed SHA-256 gets 400 XAmzContentSHA256Mismatch and stores nothing (objects and parts)', async () => {
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const bad = await sendSigned('PUT', '/headstart/images/digest/a.bin', 'tampered body', { payload: sha256('signed body') });
    expect([bad.status, bad.code]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect(await t.store.exists('images/digest/a.bin')).toBe(false);
    const good = await sendSigned('PUT', '/headstart/images/digest/a.bin', 'signed body', { payload: sha256('signed body') });
    expect(good.status).toBe(200);
    expect((await t.store.get('images/digest/a.bin')).toString()).toBe('signed body');

    const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket: t.s3.bucket, Key: 'images/digest/multi.bin' }));
    const part = await sendSigned('PUT', '/headstart/images/digest/multi.bin', 'tampered part', { payload: sha256('signed part'), query: { partNumber: '1', uploadId: UploadId! } });
    expect([part.status, part.code]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect(existsSync(path.join(t.dataDir, 'headstart', '._S3rver_uploads', UploadId!, '1'))).toBe(false);
  });

  it('accepts the SDK: put, get, list, a multipart upload and delete', async () => {
    const big = Buffer.alloc(9 * 1024 * 1024, 7);
    await t.store.put('images/sdk/big.bin', big);
    await t.store.put('images/sdk/small.txt', Buffer.from('small'));
    expect((await t.store.get('images/sdk/big.bin')).equals(big)).toBe(true);
    expect((await t.store.list('images/sdk/')).objects.map((o) => o.key)).toEqual(['images/sdk/big.bin', 'images/sdk/small.txt']);
    await t.store.delete('images/sdk/small.txt');
    expect((await t.store.list('images/sdk/')).objects.map((o) => o.key)).toEqual(['images/sdk/big.bin']);
    // Unsigned preflights pass: browsers send them before a presigned PUT.
    const preflight = await send('OPTIONS', '/headstart/images/a.png', { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'PUT' });
    expect(preflight.status).toBe(200);
  });
});

describe('presigned URLs are held to their method, path, expiry and signature', () => {
  it('a presigned PUT and GET work as issued', async () => {
    const put = await presigned(new PutObjectCommand({ Bucket: t.s3.bucket, Key: 'images/presigned/a.png', ContentType: 'image/png' }));
    expect((await send('PUT', put, { 'content-type': 'image/png' }, 'png bytes')).status).toBe(200);
    const get = await presigned(new GetObjectCommand({ Bucket: t.s3.bucket, Key: 'images/presigned/a.png' }));
    const reply = await send('GET', get);
    expect([reply.status, reply.body]).toEqual([200, 'png bytes']);
  });

  it('another path, a zeroed signature, a later expiry, another method or content type: 403 SignatureDoesNotMatch', async () => {
    // As POST /uploads hands them out.
    const issued = new URL(await new S3UploadSigner(t.client, t.s3.bucket).presignPut('images/presigned/b.png', { contentType: 'image/png', expiresIn: 300 }));
    const put = issued.pathname + issued.search;
    expect((await send('PUT', put, { 'content-type': 'image/png' }, 'png')).status).toBe(200);
    await t.store.delete('images/presigned/b.png');
    const png = { 'content-type': 'image/png' };
    const cases: Array<[string, string, string, Record<string, string>]> = [
      ['other path', 'PUT', put.replace('images/presigned/b.png', 'jobs/j1.json'), png],
      ['zeroed signature', 'PUT', withParam(put, 'X-Amz-Signature', '0'.repeat(64)), png],
      ['later expiry', 'PUT', withParam(put, 'X-Amz-Expires', '604800'), png],
      ['another X-Amz-Date', 'PUT', withParam(put, 'X-Amz-Date', new Date(Date.now() + 60_000).toISOString().replace(/[-:]|\.\d+/g, '')), png],
      ['another method', 'DELETE', put, png],
      ['another content type', 'PUT', put, { 'content-type': 'text/html' }],
    ];
    for (const [what, method, url, headers] of cases) {
      const reply = await send(method, url, headers, method === 'PUT' ? '<html>' : undefined);
      expect([what, reply.status, reply.code]).toEqual([what, 403, 'SignatureDoesNotMatch']);
    }
    expect((await t.store.get('jobs/j1.json')).toString()).toBe(JOB);
    expect((await t.store.list('images/presigned/')).objects.map((o) => o.key)).not.toContain('images/presigned/b.png');
  });

  it('an expired presigned URL gets 403 AccessDenied "Request has expired"', async () => {
    const url = await presigned(new GetObjectCommand({ Bucket: t.s3.bucket, Key: 'jobs/j1.json' }), { expiresIn: 60, signingDate: new Date(Date.now() - 2 * 3600_000) });
    const reply = await send('GET', url);
    expect([reply.status, reply.code]).toEqual([403, 'AccessDenied']);
    expect(reply.body).toContain('Request has expired');
  });
});

describe('keys never leave their bucket: empty, "." and ".." segments and a leading "/" are refused', () => {
  it('a PUT to images/..%2F..%2F..%2Fescape.txt gets 400 InvalidArgument and writes nothing outside the data directory', async () => {
    const reply = await sendSigned('PUT', '/headstart/images/..%2F..%2F..%2Fescape.txt', 'escaped', { payload: 'UNSIGNED-PAYLOAD' });
    expect([reply.status, reply.code]).toEqual([400, 'InvalidArgument']);
    // Where s3rver alone would have written it: three folders up from images/, i.e. beside the data directory.
    const outside = path.join(path.dirname(t.dataDir), 'escape.txt._S3rver_object');
    expect(existsSync(outside)).toBe(false);
    expect((await readdir(path.dirname(t.dataDir))).filter((name) => name.startsWith('escape.txt'))).toEqual([]);
  });

  it.each([
    ['images/../jobs/j1.json (raw ..)', '/headstart/images/../jobs/j1.json'],
    ['images/%2E%2E/jobs/j1.json', '/headstart/images/%2E%2E/jobs/j1.json'],
    ['images/..%2Fjobs/j1.json', '/headstart/images/..%2Fjobs/j1.json'],
    ['an empty segment', '/headstart/images//j1.json'],
    ['a "." segment', '/headstart/images/./a.png'],
    ['a leading "/"', '/headstart//jobs/j1.json'],
    ['a trailing "/"', '/headstart/images/'],
  ])('GET and PUT of %s get 400 InvalidArgument', async (_what, rawPath) => {
    const get = await sendSigned('GET', rawPath);
    expect([get.status, get.code]).toEqual([400, 'InvalidArgument']);
    expect(get.body).not.toContain('succeeded');
    const put = await sendSigned('PUT', rawPath, 'x', { payload: 'UNSIGNED-PAYLOAD' });
    expect([put.status, put.code]).toEqual([400, 'InvalidArgument']);
  });

  it('a bucket named ".." is refused, and so are ".." keys in DeleteObjects, CopyObject and an upload id', async () => {
    const bucket = await sendSigned('GET', '/%2E%2E/headstart/jobs/j1.json');
    expect([bucket.status, bucket.code]).toEqual([400, 'InvalidBucketName']);

    const deleted = await t.client.send(new DeleteObjectsCommand({ Bucket: t.s3.bucket, Delete: { Objects: [{ Key: 'images/../jobs/j1.json' }] } })).catch((e: Error) => e);
    expect(deleted).toMatchObject({ name: 'InvalidArgument' });
    const copied = await t.client.send(new CopyObjectCommand({ Bucket: t.s3.bucket, Key: 'images/copy.json', CopySource: `${t.s3.bucket}/images/../jobs/j1.json` })).catch((e: Error) => e);
    expect(copied).toMatchObject({ name: 'InvalidArgument' });
    const part = await t.client.send(new UploadPartCommand({ Bucket: t.s3.bucket, Key: 'images/x.bin', UploadId: '../../../escape', PartNumber: 1, Body: 'x' })).catch((e: Error) => e);
    expect(part).toMatchObject({ name: 'NoSuchUpload' });
    expect((await t.store.get('jobs/j1.json')).toString()).toBe(JOB);
    expect(existsSync(path.join(path.dirname(t.dataDir), 'escape'))).toBe(false);
  });
});

describe('per-installation credentials', () => {
  it('are generated once into the data directory (0600), kept across restarts, used by local clients, and overridden by HEADSTART_S3_*', async () => {
    vi.stubEnv('HEADSTART_S3_ACCESS_KEY_ID', '');
    vi.stubEnv('HEADSTART_S3_SECRET_ACCESS_KEY', '');
    const dir = await mkdtemp(path.join(tmpdir(), 'headstart-s3-creds-'));
    try {
      const first = await startLocalS3({ port: 0, dataDir: dir });
      expect(first.credentialsSource).toBe('generated');
      expect(first.credentials.accessKeyId).toMatch(/^HSLK[A-Z2-7]{16}$/);
      expect(first.credentials.secretAccessKey).toHaveLength(40);
      expect((await stat(path.join(dir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
      // A client of this endpoint finds them itself; a stranger does not get in.
      const client = createS3Client({ endpoint: first.endpoint });
      await new S3Store(client, first.bucket).put('images/a/b.png', Buffer.from('ok'));
      client.destroy();
      const anonymous = new S3Client({ region: 'us-east-1', endpoint: first.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      await expect(anonymous.send(new GetObjectCommand({ Bucket: first.bucket, Key: 'images/a/b.png' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
      anonymous.destroy();
      await first.close();

      const again = await startLocalS3({ port: 0, dataDir: dir });
      expect([again.credentialsSource, again.credentials]).toEqual(['file', first.credentials]);
      await again.close();

      vi.stubEnv('HEADSTART_S3_ACCESS_KEY_ID', 'HSLKFROMTHEENVIRONMT');
      vi.stubEnv('HEADSTART_S3_SECRET_ACCESS_KEY', 'environment-secret');
      const fromEnv = await startLocalS3({ port: 0, dataDir: dir });
      expect([fromEnv.credentialsSource, fromEnv.credentials]).toEqual(['environment', { accessKeyId: 'HSLKFROMTHEENVIRONMT', secretAccessKey: 'environment-secret' }]);
      await fromEnv.close();
    } finally {
      vi.unstubAllEnvs();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
