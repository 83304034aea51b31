/**
 * A failed PUT never leaves a visible object (issue 15): the embedded store writes bytes, checksum and
 * metadata to temporary files and renames the bytes in last, so a write that fails (a full disk: here a
 * staged write that throws ENOSPC, or a client that hangs up mid-body) leaves no object, or the old one whole.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sha256 } from '../../local/sha256.js';
import { S3Object } from '../../local/s3/s3rver.js';
import { SortedFilesystemStore } from '../../local/s3/sorted-store.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

/** The store with its staged metadata write failing as on a full disk. */
class FullDiskStore extends SortedFilesystemStore {
  protected override async stageFile(file: string, body: string): Promise<void> {
    if (file.includes('._S3rver_metadata.json')) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC' });
    return super.stageFile(file, body);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('a PUT whose metadata cannot be written', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'headstart-atomic-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no object when there was none, and no temporary files', async () => {
    const store = new FullDiskStore(dir);
    const object = new S3Object('headstart', 'jobs/new.json', null, { 'content-type': 'application/json' });
    object.content = Buffer.from('{"status":"queued"}');
    await expect(store.putObject(object)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await store.getObject('headstart', 'jobs/new.json')).toBeNull();
    expect((await store.listObjects('headstart', { prefix: 'jobs/' })).objects).toEqual([]);
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('leaves the old object whole (bytes, checksum, content type) when it replaced one', async () => {
    const good = new SortedFilesystemStore(dir);
    const first = new S3Object('headstart', 'jobs/old.json', null, { 'content-type': 'application/json' });
    first.content = Buffer.from('{"v":1}');
    await good.putObject(first);
    const before = await good.getMetadata('headstart', 'jobs/old.json');

    const second = new S3Object('headstart', 'jobs/old.json', null, { 'content-type': 'text/plain' });
    second.content = Buffer.from('{"v":2} and more');
    await expect(new FullDiskStore(dir).putObject(second)).rejects.toMatchObject({ code: 'ENOSPC' });

    const after = await good.getObject('headstart', 'jobs/old.json');
    const chunks: Buffer[] = [];
    for await (const chunk of after!.content as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('{"v":1}');
    expect(after!.metadata).toMatchObject({ 'content-type': 'application/json', etag: before.etag, 'content-length': before['content-length'] });
    expect((await filesUnder(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a PUT whose client hangs up mid-body', () => {
  let t: TestS3;
  beforeAll(async () => {
    t = await startTestS3();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('leaves no visible object and no temporary file', async () => {
    const { host, port } = new URL(t.s3.endpoint);
    const signer = new SignatureV4({ credentials: t.s3.credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/headstart/images/cut/a.png',
      query: {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'image/png' },
    });
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: Number(port), method: 'PUT', path: '/headstart/images/cut/a.png', headers: { ...signed.headers, 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(40_000, 1), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 200));
    });
    // Give the server a moment to see the hang-up and clean up.
    await new Promise((r) => setTimeout(r, 300));
    expect(await t.store.exists('images/cut/a.png')).toBe(false);
    expect((await t.store.list('images/')).objects).toEqual([]);
    expect((await filesUnder(path.join(t.dataDir, 'headstart'))).filter((f) => f.startsWith('images'))).toEqual([]);
  });
});
