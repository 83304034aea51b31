import { describe, expect, it } from 'vitest';
import { createFinetuneJob, createJob, readJob, recoverJobs, writeJob, type JobLauncher, type StoredJob } from '../../../src/jobs/index.js';
import { MemoryStore } from '../../../src/store/index.js';

/** What a restarted server does with the jobs its last run left `queued` or `running` (src/jobs/recover.ts). */
describe('recoverJobs', () => {
  const launcher = (launched: string[], fail = false): JobLauncher => ({
    launch: async (jobId) => {
      if (fail) throw new Error('the trainer is gone');
      launched.push(jobId);
    },
  });
  const finetuneRequest = { dataset: 'pets', model: 'mobilenet_v2', unfreeze: 'block_16' };

  it('launches queued jobs again in creation order, re-queues running fine-tuning, fails running head training', async () => {
    const store = new MemoryStore();
    const queued = await createJob(store, { dataset: 'pets' }, new Date('2026-01-01T00:00:02Z'));
    const older = await createJob(store, { dataset: 'pets' }, new Date('2026-01-01T00:00:01Z'));
    const running = await createJob(store, { dataset: 'pets' }, new Date('2026-01-01T00:00:03Z'));
    await writeJob(store, { ...running, status: 'running', progress: { ...running.progress, epoch: 2 } });
    const tuning = await createFinetuneJob(store, finetuneRequest, 5, new Date('2026-01-01T00:00:04Z'));
    await writeJob(store, { ...tuning, status: 'running' });
    const done = await createJob(store, { dataset: 'pets' });
    await writeJob(store, { ...done, status: 'succeeded' });
    await store.put(`jobs/${tuning.jobId}/stop.json`, '{}');

    const trained: string[] = [];
    const tuned: string[] = [];
    const result = await recoverJobs(store, (kind: StoredJob['kind']) => launcher(kind === 'train' ? trained : tuned));

    expect(trained).toEqual([older.jobId, queued.jobId]);
    expect(tuned).toEqual([tuning.jobId]);
    expect(result).toEqual({ relaunched: [older.jobId, queued.jobId], resumed: [tuning.jobId], failed: [running.jobId], unannounced: [] });
    const lost = await readJob(store, running.jobId);
    expect(lost).toMatchObject({ status: 'failed', error: { code: 'TrainerLost' } });
    expect(lost.error!.message).toContain('after epoch 2 of');
    expect(lost.finishedAt).not.toBeNull();
    expect((await readJob(store, tuning.jobId)).status).toBe('queued');
    expect((await readJob(store, done.jobId)).status).toBe('succeeded');
  });

  it('fails a job whose launcher refuses it, or that has no launcher, so none stays queued without a runner', async () => {
    const store = new MemoryStore();
    const head = await createJob(store, { dataset: 'pets' });
    const tuning = await createFinetuneJob(store, finetuneRequest, 5);
    const result = await recoverJobs(store, (kind) => (kind === 'train' ? launcher([], true) : undefined));
    expect(result.failed.sort()).toEqual([head.jobId, tuning.jobId].sort());
    expect(await readJob(store, head.jobId)).toMatchObject({ status: 'failed', error: { code: 'InternalError' } });
    expect(await readJob(store, tuning.jobId)).toMatchObject({ status: 'failed', error: { code: 'FinetuneUnavailable' } });
  });
});
