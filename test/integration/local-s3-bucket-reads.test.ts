/**
 * The embedded store keeps what s3rver re-reads on every request (issue 19: CPU per request): the bucket's
 * folder, its CORS and website configurations, and the object folders it has created. Each is read again
 * once it changes, so a kept read never answers for a bucket, a configuration or a folder that is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Object } from '../../local/s3/s3rver.js';
import { SortedFilesystemStore } from '../../local/s3/sorted-store.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

/** An unsigned CORS preflight (what a browser sends before a presigned PUT): its status and allowed methods. */
function preflight(endpoint: string, origin: string): Promise<{ status: number; methods: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/headstart/images/a.png`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, methods: res.headers['access-control-allow-methods'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

const object = (key: string, body: string) => Object.assign(new S3Object('headstart', key, null, { 'content-type': 'text/plain' }), { content: Buffer.from(body) });

async function text(store: SortedFilesystemStore, key: string): Promise<string | undefined> {
  const found = await store.getObject('headstart', key);
  if (!found?.content) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of found.content as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe("the bucket's CORS configuration, read once per change", () => {
  let t: TestS3;
  beforeAll(async () => {
    t = await startTestS3();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers preflights with the configuration as it is now, after a PUT and a DELETE of it', async () => {
    const origin = 'http://127.0.0.1:3000';
    // The stack's default: PUT from any origin.
    expect(await preflight(t.s3.endpoint, origin)).toEqual({ status: 200, methods: 'PUT' });

    const rules = [{ AllowedOrigins: ['http://console.example'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'] }];
    await t.client.send(new PutBucketCorsCommand({ Bucket: t.s3.bucket, CORSConfiguration: { CORSRules: rules } }));
    expect((await preflight(t.s3.endpoint, origin)).status).toBe(403);
    expect(await preflight(t.s3.endpoint, 'http://console.example')).toEqual({ status: 200, methods: 'PUT, GET' });
    expect((await t.client.send(new GetBucketCorsCommand({ Bucket: t.s3.bucket }))).CORSRules?.[0]?.AllowedOrigins).toEqual(['http://console.example']);

    await t.client.send(new DeleteBucketCorsCommand({ Bucket: t.s3.bucket }));
    expect((await preflight(t.s3.endpoint, 'http://console.example')).status).toBe(403);
  });
});

describe('object folders the store has created', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'headstart-folders-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are created again after a delete emptied them (s3rver removes empty folders)', async () => {
    const store = new SortedFilesystemStore(dir);
    await store.putObject(object('features/ns/links/a.json', 'first'));
    await store.deleteObject('headstart', 'features/ns/links/a.json');
    await store.putObject(object('features/ns/links/b.json', 'second'));
    expect(await text(store, 'features/ns/links/b.json')).toBe('second');
  });

  it('are created again when removed behind its back: the write fails once (a 500 the SDK retries), its retry succeeds', async () => {
    const store = new SortedFilesystemStore(dir);
    await store.putObject(object('images/d/cat/1.png', 'one'));
    await rm(path.join(dir, 'headstart', 'images', 'd'), { recursive: true });
    await expect(store.putObject(object('images/d/cat/2.png', 'two'))).rejects.toMatchObject({ code: 'ENOENT' });
    await store.putObject(object('images/d/cat/2.png', 'two'));
    expect(await text(store, 'images/d/cat/2.png')).toBe('two');
  });
});
