import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { importWeights } from '../../src/weights/index.js';
import { buildModel } from '../../src/zoo/index.js';
import { FASHION_MNIST } from '../helpers/fixtures.js';
import { writeTfjsFolder } from '../unit/finetune/fixtures.js';
import { randomizeWeights } from '../unit/onnx/helpers.js';

/**
 * Fault injection on `headstart dev` (issue 15): the whole stack (server and its S3 child, one process
 * group) is killed with SIGKILL while images are being extracted and a head is training, with a second job
 * queued behind it; the restart recovers everything with no request from anyone. MobileNetV2 with random
 * weights (the extraction path is the real one; the numbers are not the point) and the project's
 * fashion-MNIST fixtures; free ports (`--port 0 --s3-port 0`), read back from the banner.
 */
const ROOT = join(import.meta.dirname, '../..');
const LABELS = ['bag', 'coat', 'dress', 'sandal'];
const files = LABELS.flatMap((label) => readdirSync(join(FASHION_MNIST, 'train', label)).map((file) => ({ label, file, path: join(FASHION_MNIST, 'train', label, file) })));

interface Totals { images: number; extracted: number; failed: number; pending: number }
interface Dataset { totals: Totals; recovery?: { state: string; found: number; extracted: number; message: string } }
interface Job { jobId: string; status: string; headId?: string; error?: { code: string; message: string } }

class Stack {
  log = '';
  api = '';
  store!: S3Store;
  private child!: ChildProcess;

  constructor(private readonly env: NodeJS.ProcessEnv, private readonly data: string) {}

  async start(): Promise<void> {
    this.log = '';
    this.child = spawn(process.execPath, ['bin/headstart.js', 'dev', '--port', '0', '--s3-port', '0', '--data', this.data, '--model', 'mobilenet_v2'], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.on('data', (d) => (this.log += d));
    this.child.stderr!.on('data', (d) => (this.log += d));
    await until('headstart dev to report it is running', async () => {
      if (this.child.exitCode !== null) throw new Error(`headstart dev exited:\n${this.log}`);
      return this.log.includes('headstart is running') ? true : undefined;
    }, 120_000);
    const url = (what: string) => new RegExp(`^\\s+${what}\\s+(http://\\S+)`, 'm').exec(this.log)![1]!;
    this.api = url('API');
    this.store = new S3Store(createS3Client({ endpoint: url('S3') }), 'headstart');
  }

  /** SIGKILL to the process group: the server and its S3 child die at once, nothing gets to clean up. */
  async kill(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(-this.child.pid!, 'SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (!this.child?.pid || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(-this.child.pid, 'SIGINT');
    await exited;
  }

  async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await fetch(`${this.api}${path}`, init)).json()) as T;
  }

  train(head: object): Promise<Job> {
    return this.json<Job>('/train', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'pets', head }) });
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('kill -9 of npm start mid-extraction and mid-training (issue 15)', () => {
  let home: string;
  let data: string;
  let stack: Stack;
  let longJob: Job;
  let queuedJob: Job;
  let atKill: Totals;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-crash-home-'));
    data = mkdtempSync(join(tmpdir(), 'hs-crash-data-'));
    const model = buildModel('mobilenet_v2', { includeTop: true });
    const folder = mkdtempSync(join(tmpdir(), 'hs-crash-weights-'));
    try {
      randomizeWeights(model);
      await writeTfjsFolder(model, folder);
      await importWeights(folder, { model: 'mobilenet_v2', home });
    } finally {
      model.dispose();
      rmSync(folder, { recursive: true, force: true });
    }
    const env: NodeJS.ProcessEnv = { ...process.env, HEADSTART_HOME: home, POWERTOOLS_METRICS_DISABLED: 'true' };
    delete env.HEADSTART_API_KEY;
    delete env.HEADSTART_DATA;
    stack = new Stack(env, data);
    await stack.start();

    // A small dataset to train on, extracted before the crash.
    for (const label of ['bag', 'coat']) {
      for (const { file, path } of files.filter((f) => f.label === label).slice(0, 3)) await stack.store.put(`images/pets/${label}/${file}`, readFileSync(path));
    }
    await until('pets to be extracted', async () => ((await stack.json<Dataset>('/datasets/pets')).totals.extracted === 6 ? true : undefined), 60_000);
    // A head that trains for minutes (wide, one example per step), and a quick one queued behind it.
    longJob = await stack.train({ hidden: [1024, 1024], epochs: 1000, batchSize: 1, patience: 1000 });
    queuedJob = await stack.train({ epochs: 3 });
    // Head training starts in a worker process (seconds): upload once it runs, so the kill finds both under way.
    await until('the long head to be training', async () => ((await stack.json<Job>(`/jobs/${longJob.jobId}`)).status === 'running' ? true : undefined), 60_000, 50);
    for (const { label, file, path } of files) await stack.store.put(`images/fm/${label}/${file}`, readFileSync(path));
    atKill = await until('extraction of fm to be under way with the head training', async () => {
      const [fm, job] = await Promise.all([stack.json<Dataset>('/datasets/fm'), stack.json<Job>(`/jobs/${longJob.jobId}`)]);
      return fm.totals.extracted > 0 && job.status === 'running' ? fm.totals : undefined;
    }, 60_000, 50);
    await stack.kill();
    await stack.start();
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }, 60_000);

  it('was killed with images still pending', () => {
    expect(atKill.images).toBe(files.length);
    expect(atKill.pending).toBeGreaterThan(0);
  });

  it('fails the job that was training at once, with the reason, and publishes no half model', async () => {
    const job = await stack.json<Job>(`/jobs/${longJob.jobId}`);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('TrainerLost');
    expect(job.error?.message).toContain('POST /train again');
    expect(job.headId).toBeUndefined();
    const models = await stack.json<{ models: Array<{ jobId: string | null }> }>('/models');
    expect(models.models.map((m) => m.jobId)).not.toContain(longJob.jobId);
    expect(stack.log).toMatch(/Recovering jobs the last run left unfinished: 1 queued started again, 0 fine-tuning resumed from their checkpoints, 1 failed/);
  });

  it('runs the job that was queued: it succeeds and its head is listed', async () => {
    const job = await until('the queued job to finish', async () => {
      const j = await stack.json<Job>(`/jobs/${queuedJob.jobId}`);
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
    }, 60_000);
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('succeeded');
    const models = await stack.json<{ models: Array<{ headId: string; jobId: string | null }> }>('/models');
    expect(models.models.map((m) => [m.headId, m.jobId])).toEqual([[job.headId, queuedJob.jobId]]);
    // Nothing of the killed job under models/ either: every object there is the queued job's head.
    const keys: string[] = [];
    for await (const info of stack.store.listAll('models/')) keys.push(info.key);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toContain(job.headId!);
  });

  it('extracts every image the crash left pending, with no request, and GET /datasets/{name} names the recovery', async () => {
    const first = await stack.json<Dataset>('/datasets/fm');
    expect(first.recovery).toBeDefined();
    // Extraction went on between the last look and the kill: at most what was pending then, and some.
    expect(first.recovery!.found).toBeGreaterThan(0);
    expect(first.recovery!.found).toBeLessThanOrEqual(atKill.pending);
    expect(first.recovery!.message).toMatch(/after a restart/);
    const done = await until('fm to be extracted', async () => {
      const d = await stack.json<Dataset>('/datasets/fm');
      return d.totals.pending === 0 && d.recovery?.state === 'done' ? d : undefined;
    }, 90_000, 500);
    expect(done.totals).toEqual({ images: files.length, extracted: files.length, failed: 0, pending: 0 });
    expect(done.recovery).toMatchObject({ state: 'done', extracted: done.recovery!.found });
    expect(done.recovery!.message).toMatch(/^Recovered after a restart: \d+ of the \d+ images the last run left pending were extracted\.$/);
    expect(stack.log).toMatch(/Recovering after a restart: extracting \d+ images the last run left pending \(fm\)/);
  });
});
