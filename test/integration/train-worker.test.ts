import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../functions/api/local.js';
import { WORKER_PARENT_ENV } from '../../src/cli/parent.js';
import { createJob, readJob } from '../../src/jobs/records.js';
import { FileStore } from '../../src/store/file.js';
import { apiEvent, lambdaContext, parseResult } from '../helpers/events.js';
import { FakeSigner } from '../unit/api/fixtures.js';
import { FAST_HEAD, NS, quietLogs, writeDataset } from '../unit/jobs/fixtures.js';

/** Head training as `npm start` runs it: `headstart train --job <id>` in a worker process, on a store the worker can open. */
let root: string;
let store: FileStore;
let api: LocalApi;
const lines: string[] = [];

async function call(method: string, path: string, body?: unknown) {
  return parseResult(await api.handler(apiEvent(method, path, { body }), lambdaContext()));
}

async function train(head: unknown) {
  const started = await call('POST', '/train', { dataset: 'pets', head });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  await api.launcher.idle();
  return (await call('GET', `/jobs/${started.body.jobId}`)).body;
}

quietLogs();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'headstart-train-worker-'));
  store = new FileStore(root);
  await writeDataset(store, 'pets', { labels: { cat: 12, dog: 12, fox: 12 } });
  api = createLocalApi({ store, namespace: async () => NS, uploads: new FakeSigner(), jobWorker: { store: root, log: (line) => lines.push(line) } });
});

afterAll(async () => {
  await api?.close();
  await rm(root, { recursive: true, force: true });
});

describe('head training in a worker process (`headstart train --job`)', () => {
  it('trains and publishes as in this process, with its progress in the job and its lines in the server log', async () => {
    const job = await train(FAST_HEAD);

    expect(job).toMatchObject({ status: 'succeeded', progress: { epochs: 10 }, data: { dim: 8, rows: { train: 30, validation: 6 } } });
    expect(job.history).toHaveLength(10);
    expect((await call('GET', `/models/${job.headId}`)).body.metrics.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(lines.some((line) => line.startsWith(`[train ${job.jobId}] job ${job.jobId} succeeded: head ${job.headId}`))).toBe(true);
  }, 120_000);

  it('a worker that dies before recording its end fails its job with WorkerExited, and the next job trains', async () => {
    process.env.HEADSTART_BACKEND = 'no-such-backend';
    let died;
    try {
      died = await train(FAST_HEAD);
    } finally {
      delete process.env.HEADSTART_BACKEND;
    }

    expect(died).toMatchObject({ status: 'failed', error: { code: 'WorkerExited', message: expect.stringContaining('The head-training worker exited with code 2') } });
    expect(died.error.message).toContain('POST /train again');
    expect(await train(FAST_HEAD)).toMatchObject({ status: 'succeeded' });
  }, 120_000);

  it('a worker whose server is gone exits at once and leaves the job to the next start (no orphan training on)', async () => {
    const job = await createJob(store, { dataset: 'pets', head: { ...FAST_HEAD, epochs: 1000 } });
    // A server pid that is not the worker's parent: what the worker sees once its server was killed.
    const child = spawn(process.execPath, ['bin/headstart.js', 'train', '--job', job.jobId, '--store', root, '--namespace', JSON.stringify(NS)], {
      env: { ...process.env, [WORKER_PARENT_ENV]: String(2 ** 22 + 1) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));

    expect(code).toBe(1);
    expect(stderr).toContain('is gone: this worker stops');
    expect((await readJob(store, job.jobId)).status).not.toBe('succeeded');
  }, 60_000);
});

