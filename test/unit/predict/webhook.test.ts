import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverWebhook } from '../../../src/predict/index.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP receiver answering the given statuses in turn; records each body it got. */
async function receiver(statuses: number[]): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      bodies.push({ method: request.method, type: request.headers['content-type'], body: JSON.parse(text) });
      response.statusCode = statuses.shift() ?? 200;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

describe('deliverWebhook', () => {
  it('POSTs the JSON, retries 5xx and 429 with backoff, and says it was delivered', async () => {
    const hook = await receiver([503, 429, 204]);
    const waits: number[] = [];
    const delivery = await deliverWebhook(hook.url, { jobId: 'j' }, { backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
    expect(delivery).toMatchObject({ url: hook.url, delivered: true, attempts: 3, lastStatus: 204 });
    expect(delivery.lastError).toBeUndefined();
    expect(waits).toEqual([100, 200]);
    expect(hook.bodies).toEqual(Array(3).fill({ method: 'POST', type: 'application/json', body: { jobId: 'j' } }));
  });

  it('does not retry a 4xx, and gives up after the attempts with the last status', async () => {
    const gone = await receiver([404]);
    expect(await deliverWebhook(gone.url, {}, { sleep: async () => {} })).toMatchObject({ delivered: false, attempts: 1, lastStatus: 404, lastError: 'HTTP 404 Not Found' });
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const failing = await receiver([500, 500, 500]);
    expect(await deliverWebhook(failing.url, {}, { attempts: 3, sleep: async () => {} })).toMatchObject({ delivered: false, attempts: 3, lastStatus: 500 });
  });

  it('records a refused connection (no status) and a receiver that never answers (timeout)', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const refused = await deliverWebhook(`http://127.0.0.1:${closedPort}/hook`, {}, { attempts: 2, sleep: async () => {} });
    expect(refused).toMatchObject({ delivered: false, attempts: 2, lastStatus: null, lastError: 'ECONNREFUSED' });
    server = createServer(() => {});
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const silent = await deliverWebhook(url, {}, { attempts: 1, timeoutMs: 100 });
    expect(silent).toMatchObject({ delivered: false, attempts: 1, lastStatus: null, lastError: 'no answer within 100 ms' });
    server.closeAllConnections();
  });
});
