import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import { EXPORT_URL_TTL_SECONDS, exportRoutes } from '../../../functions/api/routes/export.js';
import { presignClient, S3UploadSigner } from '../../../functions/api/uploads.js';
import { initBackend } from '../../../src/engine/backend.js';
import { publishFinetuned } from '../../../src/finetune/index.js';
import { PREFIX } from '../../../src/layout.js';
import { FINETUNED, modelFileKey } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { apiEvent, lambdaContext, parseResult } from '../../helpers/events.js';
import { recordingStore } from '../../helpers/recording-store.js';
import { startTestS3, type TestS3 } from '../../helpers/store-s3.js';
import { finetunedDraft } from '../export/fixtures.js';

/** The edge of GET /models/{id}/export; the bundles themselves: test/unit/export, test/integration/export-densenet.test.ts. */
describe('GET /models/{id}/export', () => {
  const handler = createHttpHandler(async () => exportRoutes({ store: new MemoryStore() }));
  const get = async (id: string, query: Record<string, string>) => parseResult(await handler(apiEvent('GET', `/models/${id}/export`, { query }), lambdaContext()));

  it('400 without a format or with an unknown one, listing the formats (before any model is loaded)', async () => {
    const missing = await get('densenet121', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ code: 'InvalidArgument', message: "'format' is required: 'onnx' or 'tfjs'." });
    const unknown = await get('densenet121', { format: 'coreml' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe("Unknown export format 'coreml': expected 'onnx' or 'tfjs'.");
  });

  it('404 ModelNotFound for an id that is no head, no fine-tuned model and no zoo model, naming what would do', async () => {
    const result = await get('no-such-model', { format: 'onnx' });
    expect(result.status).toBe(404);
    expect(result.body.error.code).toBe('ModelNotFound');
    expect(result.body.error.message).toContain("Nothing to export under 'no-such-model'");
    expect(result.body.error.message).toContain("'densenet121'");
  });
});

/**
 * The cloud's answer, on the embedded S3 server with the real presigner: the bundle is stored once under exports/
 * and the client is sent to a presigned GET of it (a bundle is over Lambda's and API Gateway's response limits).
 */
describe('GET /models/{id}/export: stored under exports/, answered with a presigned URL', () => {
  let s3: TestS3;
  let store: ReturnType<typeof recordingStore>;
  let handler: ReturnType<typeof createHttpHandler>;
  const get = async (id: string, format: string, headers: Record<string, string> = {}) =>
    parseResult(await handler(apiEvent('GET', `/models/${id}/export`, { query: { format }, headers }), lambdaContext()));
  const exportsInBucket = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const o of s3.store.listAll(PREFIX.exports)) keys.push(o.key);
    return keys;
  };

  beforeAll(async () => {
    await initBackend('cpu');
    s3 = await startTestS3();
    store = recordingStore(s3.store);
    const signer = new S3UploadSigner(presignClient({ endpoint: s3.s3.endpoint }), s3.s3.bucket);
    handler = createHttpHandler(async () => exportRoutes({ store, signer }));
    for (const id of ['pets-ft', 'broken-ft']) {
      const draft = finetunedDraft(id);
      await publishFinetuned(s3.store, draft);
      draft.model.dispose();
    }
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('303 to a presigned GET of exports/<id>/<format>/<version>.zip, which downloads the whole bundle as <id>-<format>.zip', async () => {
    const started = Date.now();
    const result = await get('pets-ft', 'onnx');
    expect(result.status).toBe(303);
    const location = String(result.headers.location);
    expect(location).toMatch(new RegExp(`^${s3.s3.endpoint}/${s3.s3.bucket}/exports/pets-ft/onnx/[0-9a-f]{16}\\.zip\\?`));
    expect(location).toContain(`X-Amz-Expires=${EXPORT_URL_TTL_SECONDS}`);
    expect(result.headers['x-headstart-export-cache']).toBe('miss');
    expect(result.body).toMatchObject({ url: location, bytes: expect.any(Number), fileName: 'pets-ft-onnx.zip', cached: false });
    expect(Date.parse(result.body.expiresAt) - started).toBeGreaterThanOrEqual(EXPORT_URL_TTL_SECONDS * 1000 - 1000);

    // No credentials: the URL alone fetches it.
    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="pets-ft-onnx.zip"');
    const zip = new Uint8Array(await download.arrayBuffer());
    expect(zip.length).toBe(result.body.bytes);
    expect(Object.keys(unzipSync(zip)).sort()).toEqual(['README.md', 'labels.json', 'model.onnx', 'parity.json']);
    expect(await exportsInBucket()).toEqual([new URL(location).pathname.slice(`/${s3.s3.bucket}/`.length)]);
  });

  it('a second request reuses the stored bundle: writes nothing, loads no model, and is fast', async () => {
    await get('pets-ft', 'tfjs'); // built and stored (a miss)
    store.reset();
    const started = performance.now();
    const result = await get('pets-ft', 'tfjs', { Accept: 'application/json' });
    const ms = performance.now() - started;
    expect(result.status).toBe(200);
    expect(result.headers.location).toBeUndefined();
    expect(result.body).toMatchObject({ url: expect.stringContaining('/exports/pets-ft/tfjs/'), bytes: expect.any(Number), fileName: 'pets-ft-tfjs.zip', cached: true });
    expect(result.headers['x-headstart-export-cache']).toBe('hit');
    expect(store.calls.filter((c) => c.startsWith('put') || c.startsWith('delete'))).toEqual([]);
    // Only the registry pointer (and a head of the key): no model file is read.
    expect(store.calls.filter((c) => c.startsWith('get') && !c.endsWith('_published.json'))).toEqual([]);
    expect(ms).toBeLessThan(500);
    expect((await exportsInBucket()).filter((k) => k.startsWith('exports/pets-ft/tfjs/'))).toHaveLength(1);
  });

  it('a republished model (another pointer) gets a new key: the old bundle is never served for it', async () => {
    const first = await get('pets-ft', 'onnx', { Accept: 'application/json' });
    expect(first.body.cached).toBe(true);
    // Same files, another publishedAt: the pointer's bytes change.
    const pointerKey = modelFileKey(FINETUNED, 'pets-ft', '_published.json');
    const pointer = JSON.parse((await s3.store.get(pointerKey)).toString('utf8'));
    await s3.store.put(pointerKey, Buffer.from(JSON.stringify({ ...pointer, publishedAt: new Date(Date.now() + 1000).toISOString() })));
    const second = await get('pets-ft', 'onnx', { Accept: 'application/json' });
    expect(second.body.cached).toBe(false);
    expect(new URL(second.body.url).pathname).not.toBe(new URL(first.body.url).pathname);
  });

  it('a build that fails leaves nothing under exports/ and answers the error', async () => {
    // Damage one published file: the registry's digest check refuses to load it.
    await s3.store.put(modelFileKey(FINETUNED, 'broken-ft', FINETUNED.files.weights), Buffer.from('not the weights'));
    const before = await exportsInBucket();
    const result = await get('broken-ft', 'onnx');
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.body.error.message).toContain('broken-ft');
    expect(result.headers.location).toBeUndefined();
    expect(await exportsInBucket()).toEqual(before);
    expect(before.some((k) => k.startsWith('exports/broken-ft/'))).toBe(false);
  });
});
