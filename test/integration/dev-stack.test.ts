import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../../local/dev.js';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { makeJpeg } from '../helpers/images.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';

const weights = await realWeights();

/** `headstart dev` as a library: API-key gate, payload limit, extraction on upload, and a restart that keeps the data. */
describeWhen(weights, 'the local stack (npm start)', () => {
  let home: string;
  let data: string;
  let stack: DevStack;
  const start = () => startDevStack({ port: 0, s3Port: 0, dataDir: data, home, model: 'densenet121', apiKey: 'secret-key', log: () => undefined });

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-dev-home-'));
    data = mkdtempSync(join(tmpdir(), 'hs-dev-data-'));
    await weights.installInto(home);
    stack = await start();
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });

  it('answers 403 without the API key, as API Gateway does, and serves requests with it', async () => {
    expect((await fetch(`${stack.api.url}/models`)).status).toBe(403);
    expect((await fetch(`${stack.api.url}/models`, { headers: { 'x-api-key': 'wrong' } })).status).toBe(403);
    const ok = await fetch(`${stack.api.url}/models`, { headers: { 'x-api-key': 'secret-key' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ models: [], finetuned: [] });
  });

  it('refuses bodies over 10 MB with 413 and points to presigned uploads; the server stays up', async () => {
    const response = await fetch(`${stack.api.url}/classify`, {
      method: 'POST',
      headers: { 'x-api-key': 'secret-key', 'content-type': 'image/jpeg' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('POST /uploads');
    expect((await fetch(`${stack.api.url}/models`, { headers: { 'x-api-key': 'secret-key' } })).status).toBe(200);
  });

  it('extracts an upload through the event queue, and keeps the bucket across a restart', async () => {
    const store = new S3Store(createS3Client({ endpoint: stack.s3.endpoint }), stack.s3.bucket);
    await store.put('images/pets/cat/a.jpg', await makeJpeg(1, 64));
    await store.put('features/not-an-image-event.bin', 'must not trigger extraction');
    await new Promise((r) => setTimeout(r, 400));
    await stack.queue.idle();
    const dataset = (await (await fetch(`${stack.api.url}/datasets/pets`, { headers: { 'x-api-key': 'secret-key' } })).json()) as { totals: object };
    expect(dataset.totals).toEqual({ images: 1, extracted: 1, failed: 0, pending: 0 });
    expect(stack.queue.stats()).toMatchObject({ delivered: 1, deadLettered: 0 });

    await stack.close();
    stack = await start();
    const again = new S3Store(createS3Client({ endpoint: stack.s3.endpoint }), stack.s3.bucket);
    expect((await again.get('images/pets/cat/a.jpg')).length).toBeGreaterThan(0);
    const after = (await (await fetch(`${stack.api.url}/datasets/pets`, { headers: { 'x-api-key': 'secret-key' } })).json()) as { totals: object };
    expect(after.totals).toEqual({ images: 1, extracted: 1, failed: 0, pending: 0 });
  }, 180_000);
});
