import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrainLauncher } from '../../../functions/api/launchers.js';
import { StartupRecovery } from '../../../local/recovery.js';
import { initBackend } from '../../../src/engine/backend.js';
import type { FeaturePipeline } from '../../../src/features/pipeline.js';
import { runTrainingJob } from '../../../src/heads/job.js';
import { createJob, createPredictJob, readJob, writeJob, type PredictJobRecord } from '../../../src/jobs/index.js';
import { runPredictJob } from '../../../src/predict/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { FAST_HEAD, NS, quietLogs, writeDataset } from '../jobs/fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())))));
});

/** A real HTTP receiver answering the given statuses in turn (then 200), or never answering while `hang` is set; records each body. */
async function receiver(statuses: number[], state = { hang: false }): Promise<{ url: string; bodies: Array<Record<string, unknown>>; state: { hang: boolean } }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      if (state.hang) return;
      response.statusCode = statuses.shift() ?? 200;
      response.end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, state };
}

/** A port nothing listens on: the connection is refused. */
async function deadUrl(): Promise<string> {
  const hook = await receiver([]);
  const server = servers.pop()!;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return hook.url;
}

/** No model: every image of these datasets is cached, so the startup extraction has nothing to do. */
const pipeline = { namespace: NS, batchSize: 4 } as unknown as FeaturePipeline;
const launcher: TrainLauncher = { launch: async () => undefined };

/** shop: cached images and a head trained on them. */
async function shopWithHead(): Promise<{ store: MemoryStore; headId: string }> {
  const store = new MemoryStore();
  await writeDataset(store, 'shop', { labels: { cat: 6, dog: 6 } });
  const train = await createJob(store, { dataset: 'shop', head: FAST_HEAD });
  const { headId } = await runTrainingJob(store, train.jobId, { namespace: NS });
  return { store, headId: headId! };
}

/**
 * A prediction job that ends, its final record written, while its webhook is being delivered, and the server dies
 * there: the delivery never answers (the process is gone), so nothing records it. What a `kill -9` leaves in the bucket.
 */
async function endedButUnannounced(store: MemoryStore, headId: string, webhook: string): Promise<PredictJobRecord> {
  const job = await createPredictJob(store, { dataset: 'shop', head: headId, webhook });
  let posted!: () => void;
  const delivering = new Promise<void>((resolve) => (posted = resolve));
  void runPredictJob(store, job.jobId, {
    namespace: NS,
    progressEveryMs: 0,
    webhook: {
      fetch: () => {
        posted();
        return new Promise<Response>(() => undefined);
      },
    },
  });
  await delivering;
  const record = await readJob(store, job.jobId);
  expect(record).toMatchObject({ kind: 'predict', status: 'succeeded' });
  expect((record as PredictJobRecord).webhook).toBeUndefined();
  return record as PredictJobRecord;
}

async function restart(store: MemoryStore, webhook = { backoffMs: 10 }): Promise<{ recovery: StartupRecovery; log: string[] }> {
  const log: string[] = [];
  const recovery = new StartupRecovery({ store, pipeline, log: (line) => log.push(line), webhook });
  await recovery.start({ train: launcher, predict: launcher });
  return { recovery, log };
}

describe('startup recovery of prediction webhooks (local/recovery.ts, src/predict/resend.ts)', () => {
  it('sends the webhook of a job that ended but was never announced, with the same retries, and records it as sent after a restart', async () => {
    const { store, headId } = await shopWithHead();
    const hook = await receiver([503, 502]);
    const job = await endedButUnannounced(store, headId, hook.url);

    const { recovery, log } = await restart(store);
    await recovery.idle();

    // The same summary a job that ends normally posts; retried through the 5xx answers like any delivery.
    expect(hook.bodies).toHaveLength(3);
    expect(hook.bodies[2]).toMatchObject({ jobId: job.jobId, status: 'succeeded', request: { dataset: 'shop', head: headId }, results: job.results, images: { total: 12, predicted: 12, failed: 0 } });
    const after = (await readJob(store, job.jobId)) as PredictJobRecord;
    expect(after.webhook).toMatchObject({ url: hook.url, delivered: true, attempts: 3, lastStatus: 200, afterRestart: true });
    expect(after.status).toBe('succeeded');
    expect(after.finishedAt).toBe(job.finishedAt);
    expect(log.join('\n')).toContain(`Sending again the completion webhook of 1 prediction job(s) the last run finished but had not announced (${job.jobId})`);
    expect(log.join('\n')).toContain('Webhooks sent again after a restart: 1 of 1 delivered.');

    // Announced once: the next start sends nothing.
    const again = await restart(store);
    await again.recovery.idle();
    expect(hook.bodies).toHaveLength(3);
    expect(again.log).toEqual([]);
  });

  it('records a receiver that is still down as not delivered after every try, and sends nothing for jobs with a delivery, without a webhook, or not ended', async () => {
    const { store, headId } = await shopWithHead();
    const down = await endedButUnannounced(store, headId, await deadUrl());
    const hook = await receiver([]);
    const recorded = await createPredictJob(store, { dataset: 'shop', head: headId, webhook: hook.url });
    await writeJob(store, { ...recorded, status: 'failed', webhook: { url: hook.url, delivered: false, attempts: 4, lastStatus: 500 } });
    const plain = await createPredictJob(store, { dataset: 'shop', head: headId });
    await writeJob(store, { ...plain, status: 'succeeded' });
    const queued = await createPredictJob(store, { dataset: 'shop', head: headId, webhook: hook.url });

    const { recovery, log } = await restart(store);
    await recovery.idle();

    expect((await readJob(store, down.jobId)) as PredictJobRecord).toMatchObject({ webhook: { delivered: false, attempts: 4, lastStatus: null, lastError: 'ECONNREFUSED', afterRestart: true } });
    expect(log.join('\n')).toContain('0 of 1 delivered (GET /jobs/{id} says why not)');
    // The queued job was handed to its launcher (which here runs nothing): no webhook for it, nor for the others.
    expect(hook.bodies).toEqual([]);
    expect(((await readJob(store, recorded.jobId)) as PredictJobRecord).webhook).toEqual({ url: hook.url, delivered: false, attempts: 4, lastStatus: 500 });
    expect(((await readJob(store, plain.jobId)) as PredictJobRecord).webhook).toBeUndefined();
    expect(((await readJob(store, queued.jobId)) as PredictJobRecord).webhook).toBeUndefined();
  });

  it('a delivery cut short by close() is not recorded, so the next start sends it again', async () => {
    const { store, headId } = await shopWithHead();
    const hook = await receiver([], { hang: true });
    const job = await endedButUnannounced(store, headId, hook.url);

    const first = await restart(store);
    for (let i = 0; i < 100 && hook.bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(hook.bodies).toHaveLength(1);
    await first.recovery.close();
    expect(((await readJob(store, job.jobId)) as PredictJobRecord).webhook).toBeUndefined();

    // The receiver answers again: the next start delivers it.
    hook.state.hang = false;
    const second = await restart(store);
    await second.recovery.idle();
    expect(hook.bodies).toHaveLength(2);
    expect(((await readJob(store, job.jobId)) as PredictJobRecord).webhook).toMatchObject({ delivered: true, attempts: 1, afterRestart: true });
  });
});
