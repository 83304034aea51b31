import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/api/handler.js';
import { createHttpHandler } from '../../functions/api/http-handler.js';
import { thumbnailRoutes } from '../../functions/api/routes/thumbnails.js';
import { startConsoleServer, type ConsoleServer } from '../../local/console/server.js';
import { startLocalApi, type LocalApi } from '../../local/http/server.js';
import { MemoryStore } from '../../src/store/index.js';
import { FakeSigner, RecordingLauncher } from '../unit/api/fixtures.js';
import { NS } from '../unit/jobs/fixtures.js';

/**
 * `headstart console --api <url>`: the console served on this machine, every API call passed to a
 * "deployed" API (the real handler behind the API-key gate, under a stage path as API Gateway serves it).
 * The proxy adds no credentials: without the browser's key the API answers 403, as it does for curl.
 */
describe('the console for a deployed API (headstart console --api)', () => {
  const KEY = 'deployed-key';
  const store = new MemoryStore();
  let deployed: LocalApi;
  let console_: ConsoleServer;
  let origin: string;

  beforeAll(async () => {
    const handler = createHttpHandler(async () => [...apiRoutes({ store, namespace: async () => NS, launcher: new RecordingLauncher(), uploads: new FakeSigner() }), ...thumbnailRoutes({ store })]);
    deployed = await startLocalApi({
      apiKey: KEY,
      port: 0,
      // API Gateway's stage: https://<id>.execute-api.<region>.amazonaws.com/v1/<route>.
      handler: async (event, context) =>
        event.path.startsWith('/v1/') ? handler({ ...event, path: event.path.slice(3) }, context) : { statusCode: 403, body: '{"message":"Missing Authentication Token"}' },
    });
    console_ = await startConsoleServer({ api: `${deployed.url}/v1`, port: 0 });
    origin = new URL(console_.url).origin;
  });
  afterAll(async () => {
    await console_?.close();
    await deployed?.close();
  });

  it('serves the console page and bundle itself, and redirects / to it', async () => {
    const page = await fetch(console_.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/console/assets/main.js');
    expect((await fetch(`${origin}/console/assets/main.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${origin}/console/models/some-head`)).status).toBe(200);
    const root = await fetch(`${origin}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
  });

  it('passes API calls through with the caller’s key, adding none: 403 without it', async () => {
    expect((await fetch(`${origin}/models`)).status).toBe(403);
    expect((await fetch(`${origin}/models`, { headers: { 'x-api-key': 'wrong' } })).status).toBe(403);
    const ok = await fetch(`${origin}/models`, { headers: { 'x-api-key': KEY } });
    expect([ok.status, await ok.json()]).toEqual([200, { models: [], finetuned: [] }]);
  });

  it('forwards methods, query strings, JSON bodies and binary answers unchanged', async () => {
    const train = await fetch(`${origin}/train`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'nope' }) });
    expect(train.status).toBe(404);
    expect(((await train.json()) as { error: { code: string } }).error.code).toBe('UnknownDataset');
    await store.put('images/pets/cat/a.png', await sharp({ create: { width: 64, height: 32, channels: 3, background: '#336699' } }).png().toBuffer());
    const through = await fetch(`${origin}/thumbnails?key=${encodeURIComponent('images/pets/cat/a.png')}&size=48`, { headers: { 'x-api-key': KEY, accept: 'image/jpeg' } });
    const direct = await fetch(`${deployed.url}/v1/thumbnails?key=${encodeURIComponent('images/pets/cat/a.png')}&size=48`, { headers: { 'x-api-key': KEY } });
    expect(through.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await through.arrayBuffer());
    expect(bytes.equals(Buffer.from(await direct.arrayBuffer()))).toBe(true);
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'jpeg', width: 48, height: 24 });
  });

  it('answers 502 ApiUnreachable when the API is down, and refuses a URL that is not one', async () => {
    const down = await startConsoleServer({ api: 'http://127.0.0.1:9/v1', port: 0 });
    try {
      const response = await fetch(`${new URL(down.url).origin}/models`);
      expect([response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual([502, 'ApiUnreachable']);
    } finally {
      await down.close();
    }
    await expect(startConsoleServer({ api: 'not a url' })).rejects.toThrow(/--api must be the API's URL/);
    await expect(startConsoleServer({ api: 'ftp://x/v1' })).rejects.toThrow(/http\(s\) URL/);
  });
});
