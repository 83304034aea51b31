import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/api/handler.js';
import { createHttpHandler } from '../../functions/api/http-handler.js';
import { thumbnailRoutes } from '../../functions/api/routes/thumbnails.js';
import { startConsoleServer, type ConsoleServer } from '../../local/console/server.js';
import { createSigner, executeApiRegion } from '../../local/console/sign.js';
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

/** botocore (the AWS CLI's signer) present? It is the outside reference for our SigV4 signatures. */
const botocore = spawnSync('python3', ['-c', 'import botocore'], { encoding: 'utf8' }).status === 0;
if (!botocore) console.warn('botocore is not importable by python3: the SigV4 check against it is skipped (pip install botocore)');

/** botocore's SigV4 signature of a request as received, over the headers it names as signed. */
const BOTOCORE_SIGN = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
r = json.load(sys.stdin)
req = AWSRequest(method=r['method'], url=r['url'], data=bytes.fromhex(r['body']), headers=r['headers'])
auth = SigV4Auth(Credentials(r['accessKeyId'], r['secretAccessKey']), 'execute-api', r['region'])
req.context['timestamp'] = r['headers']['x-amz-date']
cr = auth.canonical_request(req)
print(auth.signature(auth.string_to_sign(req, cr), req))
`;

describe.skipIf(!botocore)(`the console proxy signs API calls with SigV4 (headstart console --auth iam)${botocore ? '' : ' (skipped: no botocore)'}`, () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const received: Array<{ method: string; url: string; headers: Record<string, string>; body: Buffer }> = [];
  let upstream: Server;
  let proxy: ConsoleServer;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    proxy = await startConsoleServer({ api: `http://127.0.0.1:${port}/v1`, port: 0, sign: { region: 'eu-west-1', credentials } });
  });
  afterAll(async () => {
    await proxy?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('a signature botocore computes identically, for a GET with a query and a POST with a JSON body', async () => {
    const origin = new URL(proxy.url).origin;
    await fetch(`${origin}/datasets/pets?label=cat&limit=5`);
    await fetch(`${origin}/train`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: '{"dataset":"pets"}' });

    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/datasets/pets?label=cat&limit=5', 'POST /v1/train']);
    for (const request of received) {
      const authorization = /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(request.headers.authorization ?? '');
      expect(authorization, `Authorization of ${request.method} ${request.url}: ${request.headers.authorization}`).not.toBeNull();
      const signedHeaders = authorization![1]!.split(';');
      expect(signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date']));
      if (request.method === 'POST') expect(signedHeaders).toEqual(expect.arrayContaining(['content-type', 'x-api-key']));
      const input = {
        ...credentials,
        region: 'eu-west-1',
        method: request.method,
        url: `http://${request.headers.host}${request.url}`,
        headers: Object.fromEntries(signedHeaders.map((name) => [name, request.headers[name]!])),
        body: request.body.toString('hex'),
      };
      const python = spawnSync('python3', ['-c', BOTOCORE_SIGN], { input: JSON.stringify(input), encoding: 'utf8' });
      expect(python.stderr).toBe('');
      expect(python.stdout.trim()).toBe(authorization![2]);
    }
  });

  it('refuses to sign for a host whose region it cannot tell, naming --region', () => {
    expect(() => createSigner(new URL('https://api.example.com/v1'), { credentials })).toThrow(/pass --region/);
    expect(executeApiRegion(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/v1'))).toBe('eu-west-1');
  });
});
