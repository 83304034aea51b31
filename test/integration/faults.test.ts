import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemStore } from '../../local/s3/s3rver.js';
import { decodeSafetensors } from '../../src/features/format/safetensors.js';
import type { LinkRecord } from '../../src/features/ingest.js';
import { DevProcess, randomMobileNetHome, until, type Dataset, type Job } from '../helpers/dev-process.js';
import { FASHION_MNIST } from '../helpers/fixtures.js';

/**
 * Fault injection on `headstart dev` (issue 15), one stack, one scenario after another, each asserting after
 * recovery that nothing is lost: kill -9 of the S3 server process mid-upload; a cached feature corrupted on
 * disk and another deleted; a full disk. The data directory is a 64 MiB tmpfs when this process may mount one
 * (root here), so the disk can really fill; without it the full-disk scenario says it skipped and why (the
 * store layer's 507 is still covered by storage-full.test.ts where it can mount). The kill -9 of the whole
 * stack mid-extraction and mid-training is crash-recovery.test.ts.
 */
const LABELS = ['bag', 'coat', 'dress', 'sandal'];
// 12 images a label: enough to be mid-upload and mid-extraction when the faults strike, quick to extract;
// every one (30 a label) in `npm run test:faults` (HEADSTART_FAULTS_LONG).
const PER_LABEL = process.env.HEADSTART_FAULTS_LONG ? Infinity : 12;
const files = LABELS.flatMap((label) =>
  readdirSync(join(FASHION_MNIST, 'train', label))
    .slice(0, PER_LABEL)
    .map((file) => ({ label, file, bytes: readFileSync(join(FASHION_MNIST, 'train', label, file)) })),
);

const root = mkdtempSync(join(tmpdir(), 'hs-faults-'));
const tmpfs = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', root], { stdio: 'pipe' });
    return true;
  } catch (error) {
    console.log(`faults: no tmpfs (${(error as Error).message.split('\n')[0]}): the full-disk scenario will skip; run as root to include it.`);
    return false;
  }
})();
const data = join(root, 'data');

/** PUT with the retries of a client whose request was not acknowledged (the S3 server may be restarting). */
async function putUntilAcknowledged(stack: DevProcess, key: string, body: Buffer): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await stack.store.put(key, body);
      return attempt;
    } catch (error) {
      if (attempt >= 60) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const totals = async (stack: DevProcess, dataset: string) => (await stack.json<Dataset>(`/datasets/${dataset}`)).totals;

async function allExtracted(stack: DevProcess, dataset: string, count: number, timeoutMs = 90_000): Promise<void> {
  await until(`${dataset} to be fully extracted`, async () => {
    const t = await totals(stack, dataset);
    return t.pending === 0 && t.images === count ? true : undefined;
  }, timeoutMs, 250);
  expect(await totals(stack, dataset)).toEqual({ images: count, extracted: count, failed: 0, pending: 0 });
}

async function finished(stack: DevProcess, jobId: string): Promise<Job> {
  return until('the job to finish', async () => {
    const job = await stack.json<Job>(`/jobs/${jobId}`);
    return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
  }, 90_000, 250);
}

describe('fault injection on headstart dev (issue 15)', () => {
  let home: string;
  let stack: DevProcess;

  beforeAll(async () => {
    home = await randomMobileNetHome('hs-faults');
    stack = new DevProcess(DevProcess.env(home), data);
    await stack.start();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    if (tmpfs) execFileSync('umount', [root]);
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('kill -9 of the S3 server process mid-upload: it is restarted, every acknowledged image is extracted, nothing is lost', async () => {
    const firstPid = stack.s3Pid();
    let retried = 0;
    let killedAt = 0;
    for (const [i, { label, file, bytes }] of files.entries()) {
      if (i === 10) {
        killedAt = Date.now();
        process.kill(firstPid, 'SIGKILL');
      }
      retried += (await putUntilAcknowledged(stack, `images/up/${label}/${file}`, bytes)) - 1;
    }
    const uploadedAt = Date.now();
    await allExtracted(stack, 'up', files.length);
    const restartMs = Number(/down (\d+) ms/.exec(stack.log)?.[1]);
    console.log(
      `kill -9 of the S3 process: back after ${restartMs} ms; the upload went on (${retried} PUT retries); ` +
        `all ${files.length} images extracted ${Date.now() - killedAt} ms after the kill (${Date.now() - uploadedAt} ms after the last PUT)`,
    );
    expect(stack.s3Pid()).not.toBe(firstPid);
    expect(stack.log).toMatch(/The embedded S3 server process died and was restarted \(down \d+ ms\); reconciling what it left pending\./);
    expect(restartMs).toBeLessThan(10_000);
  }, 150_000);

  it('a feature corrupted on disk and a deleted one: training names them, the images are pending, /backfill repairs them, training succeeds', async () => {
    const link = async (key: string) => JSON.parse((await stack.store.get(key)).toString()) as LinkRecord;
    const linkKeys: string[] = [];
    for await (const info of stack.store.listAll('features/')) if (info.key.includes('/links/up/')) linkKeys.push(info.key);
    expect(linkKeys).toHaveLength(files.length);
    const [corrupted, deleted] = await Promise.all([link(linkKeys[3]!), link(linkKeys[30]!)]);
    const featureOf = (l: LinkRecord) => `${linkKeys[0]!.slice(0, linkKeys[0]!.indexOf('/links/'))}/${l.sha256}.safetensors`;
    // Random finite values over the stored feature's, on disk: no event, no metadata change, the header intact.
    const file = new FilesystemStore(data).getResourcePath('headstart', featureOf(corrupted), 'object');
    const bytes = readFileSync(file);
    const values = decodeSafetensors(bytes).tensors.features!.data.length;
    const noise = Buffer.from(new Float32Array(values).map(() => Math.random()).buffer);
    noise.copy(bytes, bytes.length - noise.length);
    writeFileSync(file, bytes);
    await stack.store.delete(featureOf(deleted));

    const job = await finished(stack, (await stack.train('up', { epochs: 2 })).jobId);

    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('CorruptFeature');
    expect(job.error?.message).toContain(`${featureOf(corrupted)} (the features of ${corrupted.key}) is corrupt: its values' sha256 is`);
    expect(job.error?.message).toContain(`${featureOf(deleted)} (the features of ${deleted.key}) is missing`);
    expect(await totals(stack, 'up')).toMatchObject({ extracted: files.length - 2, pending: 2 });

    const started = Date.now();
    expect((await stack.post('/backfill', { dataset: 'up' })).status).toBe(202);
    await allExtracted(stack, 'up', files.length);
    console.log(`corrupt + deleted feature: repaired by POST /backfill in ${Date.now() - started} ms`);
    const retrained = await finished(stack, (await stack.train('up', { epochs: 2 })).jobId);
    expect(retrained.error).toBeUndefined();
    expect(retrained.status).toBe('succeeded');
  }, 150_000);

  it.skipIf(!tmpfs)('a full disk: 507 StorageFull with the file in the log, and once space is freed every acknowledged image is extracted', async () => {
    // Images not seen before (the test split), so each needs the model and its feature needs space.
    const unseen = readdirSync(join(FASHION_MNIST, 'test')).flatMap((label) =>
      readdirSync(join(FASHION_MNIST, 'test', label)).map((file) => ({ label, file, bytes: readFileSync(join(FASHION_MNIST, 'test', label, file)) })),
    );
    // Fill the disk but for 256 KiB, then upload until the disk is full: the last images acknowledged find no
    // room for their features, whatever the machine's speed.
    const filler = join(root, 'filler');
    const chunk = Buffer.alloc(1024 * 1024, 1);
    try {
      for (;;) writeFileSync(filler, chunk, { flag: 'a' });
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    truncateSync(filler, Math.max(0, statSync(filler).size - 256 * 1024));
    const batch: typeof unseen = [];
    let upload: (Error & { code?: string }) | undefined;
    for (const image of unseen) {
      upload = await stack.store.put(`images/full/${image.label}/${image.file}`, image.bytes).then(() => undefined, (e: unknown) => e as Error & { code: string });
      if (upload) break;
      batch.push(image);
    }
    const atFull = await totals(stack, 'full');
    // What the failed upload left free may still hold a job record of a few hundred bytes: take it too, so
    // that the training request below cannot find room (under load, a 202 here was a race, not a bug).
    try {
      for (;;) writeFileSync(join(root, 'filler-rest'), Buffer.alloc(512, 1), { flag: 'a' });
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }

    const train = await stack.post('/train', { dataset: 'up' });
    const trainBody = (await train.json()) as { error: { code: string; message: string } };

    expect(batch.length).toBeGreaterThan(0);
    expect(upload).toMatchObject({ code: 'StorageFull' });
    expect(train.status).toBe(507);
    expect(trainBody.error.code).toBe('StorageFull');
    expect(trainBody.error.message).toMatch(/^Storage is full: S3 PutObject on 'jobs\//);
    await until('the log to name the full disk', async () => (/the disk is full: could not write .* to \/\S+/.test(stack.log) ? true : undefined), 30_000);
    expect(stack.log).toMatch(/The disk holding \/\S+ is full/);

    const freedAt = Date.now();
    for (const name of readdirSync(root).filter((n) => n.startsWith('filler'))) rmSync(join(root, name));
    await allExtracted(stack, 'full', batch.length, 120_000);
    console.log(`full disk: ${atFull.pending} of ${batch.length} images pending when it filled; all extracted ${Date.now() - freedAt} ms after space was freed`);
    expect(atFull.pending).toBeGreaterThan(0);
    // Queue retries may have got there first; the watch still sees the room within its 2 s period.
    await until('the log to say the disk has room again', async () => (/has room again/.test(stack.log) ? true : undefined), 15_000);
  }, 180_000);

  // Last: it ends the stack. Only in `npm run test:faults` (about 20 s of backoff).
  it.skipIf(!process.env.HEADSTART_FAULTS_LONG)('an S3 process that cannot come back: headstart dev exits 1 saying why, after 5 restarts', async () => {
    const port = Number(new URL(stack.s3Endpoint).port);
    const s3 = stack.s3Pid();
    process.kill(s3, 'SIGKILL');
    await until('the S3 process to be gone', async () => (existsSync(`/proc/${s3}`) ? undefined : true), 10_000, 20);
    // Someone takes the port while it is down: every restart fails with EADDRINUSE.
    const squatter = createServer();
    await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(port, '127.0.0.1', resolve));
    try {
      const code = await stack.exited();
      expect(code).toBe(1);
      expect(stack.log).toMatch(/headstart dev cannot go on: The embedded S3 server process died and 5 restarts in a row failed: .*EADDRINUSE/);
      expect(stack.log).toMatch(/restarting it in 4000 ms \(attempt 5 of 5\)/);
    } finally {
      squatter.close();
    }
  }, 90_000);
});
