import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevProcess, randomMobileNetHome, until, type Dataset, type Job, type Totals } from '../helpers/dev-process.js';
import { FASHION_MNIST } from '../helpers/fixtures.js';

/**
 * Fault injection on `headstart dev` (issue 15): the whole stack (server and its S3 child, one process
 * group) is killed with SIGKILL while images are being extracted and a head is training, with a second job
 * queued behind it; the restart recovers everything with no request from anyone. MobileNetV2 with random
 * weights (the extraction path is the real one; the numbers are not the point) and the project's
 * fashion-MNIST fixtures; free ports (`--port 0 --s3-port 0`), read back from the banner.
 */
const LABELS = ['bag', 'coat', 'dress', 'sandal'];
const files = LABELS.flatMap((label) => readdirSync(join(FASHION_MNIST, 'train', label)).map((file) => ({ label, file, path: join(FASHION_MNIST, 'train', label, file) })));

describe('kill -9 of npm start mid-extraction and mid-training (issue 15)', () => {
  let home: string;
  let data: string;
  let stack: DevProcess;
  let longJob: Job;
  let queuedJob: Job;
  let atKill: Totals;

  beforeAll(async () => {
    home = await randomMobileNetHome('hs-crash');
    data = mkdtempSync(join(tmpdir(), 'hs-crash-data-'));
    stack = new DevProcess(DevProcess.env(home), data);
    await stack.start();

    // A small dataset to train on, extracted before the crash.
    for (const label of ['bag', 'coat']) {
      for (const { file, path } of files.filter((f) => f.label === label).slice(0, 3)) await stack.store.put(`images/pets/${label}/${file}`, readFileSync(path));
    }
    await until('pets to be extracted', async () => ((await stack.json<Dataset>('/datasets/pets')).totals.extracted === 6 ? true : undefined), 60_000);
    // A head that trains for minutes (wide, one example per step), and a quick one queued behind it.
    longJob = await stack.train('pets', { hidden: [1024, 1024], epochs: 1000, batchSize: 1, patience: 1000 });
    queuedJob = await stack.train('pets', { epochs: 3 });
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
    expect(stack.log).toMatch(/Recovering jobs the last run left unfinished: 1 queued started again, 0 running again \(.*\), 1 failed \(TrainerLost/);
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
    // Every image is extracted after the restart with no request: the claim that must always hold.
    const done = await until('fm to be extracted', async () => {
      const d = await stack.json<Dataset>('/datasets/fm');
      return d.totals.pending === 0 && (d.recovery === undefined || d.recovery.state === 'done') ? d : undefined;
    }, 90_000, 500);
    expect(done.totals).toEqual({ images: files.length, extracted: files.length, failed: 0, pending: 0 });
    if (!/Recovering after a restart: extracting/.test(stack.log)) {
      // The last batch in flight (a few images: MobileNetV2 is quick) can land between the look that found
      // them pending and the kill; then the restart has nothing to recover and no recovery to name. Say so.
      console.warn(`crash-recovery: the restart's reconciliation found nothing pending in fm (${atKill.pending} were pending at the kill); the recovery-note checks do not apply to this run`);
      expect(done.recovery).toBeUndefined();
      return;
    }
    expect(done.recovery).toBeDefined();
    // Extraction went on between the last look and the kill: at most what was pending then, and some.
    expect(done.recovery!.found).toBeGreaterThan(0);
    expect(done.recovery!.found).toBeLessThanOrEqual(atKill.pending);
    expect(done.recovery).toMatchObject({ state: 'done', extracted: done.recovery!.found });
    expect(done.recovery!.message).toMatch(/^Recovered after a restart: \d+ of the \d+ images the last run left pending were extracted\.$/);
    expect(stack.log).toMatch(/Recovering after a restart: extracting \d+ images the last run left pending \(fm\)/);
  });
});
