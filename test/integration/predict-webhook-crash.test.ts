import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevProcess, randomMobileNetHome, until, type Dataset, type Job } from '../helpers/dev-process.js';
import { FASHION_MNIST } from '../helpers/fixtures.js';

interface PredictJob extends Job {
  request: { webhook?: string };
  webhook?: { delivered: boolean; attempts: number; lastStatus: number | null; afterRestart?: boolean };
}

/**
 * `kill -9` of `headstart dev` while a finished prediction job's webhook is being delivered (the receiver has the
 * request and has not answered): the job's final record is in the bucket, its delivery is not. The restart announces
 * it (local/recovery.ts): the same summary is POSTed again and the record says it was sent after a restart.
 * MobileNetV2 with random weights (the numbers are not the point), free ports.
 */
describe('kill -9 of npm start while a prediction job’s webhook is in flight', () => {
  let home: string;
  let data: string;
  let stack: DevProcess;
  let receiver: Server;
  const bodies: Array<{ jobId: string; status: string }> = [];
  /** While set, the receiver takes requests and never answers (the delivery is under way when the server dies). */
  const state = { hang: true };

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => (text += chunk));
      request.on('end', () => {
        bodies.push(JSON.parse(text) as { jobId: string; status: string });
        if (!state.hang) response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    home = await randomMobileNetHome('hs-webhook-crash');
    data = mkdtempSync(join(tmpdir(), 'hs-webhook-crash-data-'));
    stack = new DevProcess(DevProcess.env(home), data);
    await stack.start();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    for (const dir of [home, data]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sends the webhook again after the restart and records webhook.afterRestart', async () => {
    // Prepare: a head on 6 extracted images, then a prediction job whose webhook never answers.
    for (const label of ['bag', 'coat']) {
      for (const file of readdirSync(join(FASHION_MNIST, 'train', label)).sort().slice(0, 3)) await stack.store.put(`images/shop/${label}/${file}`, readFileSync(join(FASHION_MNIST, 'train', label, file)));
    }
    await until('shop to be extracted', async () => ((await stack.json<Dataset>('/datasets/shop')).totals.extracted === 6 ? true : undefined), 60_000);
    const train = await stack.train('shop', { epochs: 3 });
    const trained = await until('the head to train', async () => {
      const job = await stack.json<Job>(`/jobs/${train.jobId}`);
      return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
    }, 60_000);
    expect(trained.status).toBe('succeeded');
    const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
    const started = await stack.post('/predict', { dataset: 'shop', head: trained.headId, webhook });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    await until('the webhook to be under way', async () => (bodies.length > 0 ? true : undefined), 60_000, 50);
    const before = await stack.json<PredictJob>(`/jobs/${jobId}`);
    expect(before.status).toBe('succeeded');
    expect(before.webhook).toBeUndefined();

    // Act: the server dies mid-delivery; the receiver answers again; the server starts.
    await stack.kill();
    state.hang = false;
    await stack.start();

    // Assess: announced once more, and the record says so.
    const after = await until('the webhook to be sent again', async () => {
      const job = await stack.json<PredictJob>(`/jobs/${jobId}`);
      return job.webhook ? job : undefined;
    }, 60_000);
    expect(after.webhook).toMatchObject({ delivered: true, attempts: 1, lastStatus: 200, afterRestart: true });
    expect(after.status).toBe('succeeded');
    expect(bodies.map((b) => [b.jobId, b.status])).toEqual([
      [jobId, 'succeeded'],
      [jobId, 'succeeded'],
    ]);
    expect(stack.log).toContain(`Sending again the completion webhook of 1 prediction job(s) the last run finished but had not announced (${jobId})`);
  }, 240_000);
});
