import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi } from '../../../functions/api/local.js';
import { createTrainHandler } from '../../../functions/train/handler.js';
import { datasetIssues } from '../../../src/datatools/issues.js';
import { runIssuesJob } from '../../../src/datatools/issues-job.js';
import { initBackend } from '../../../src/engine/backend.js';
import { createIssuesJob, readJob, recoverJobs, writeJob, type IssuesJobRecord } from '../../../src/jobs/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { apiEvent, lambdaContext, parseResult } from '../../helpers/events.js';
import { NS, quietLogs, writeDataset } from '../jobs/fixtures.js';
import { FakeSigner, RecordingLauncher, testApi } from './fixtures.js';

/**
 * GET /datasets/{name}/issues above the synchronous limit (lowered to 20 here; 10,000 in service): 202 with a
 * dataset issues job, the same job while it is queued or running, then 200 from the cache the job wrote.
 * Features are synthetic but stored through the real safetensors/link layout (writeDataset), so the route
 * reads real shards and the job runs the same computation as `headstart issues`.
 */
beforeAll(async () => {
  await initBackend();
});
quietLogs();

const LIMIT = 20;
/** 24 extracted images: above the limit. */
const PETS = { labels: { cat: 8, dog: 8, fox: 8 } };

describe('GET /datasets/{name}/issues above the synchronous limit', () => {
  it('answers 202 with a job, the same job while it is queued, then 200 from the cache the job wrote; a changed dataset is a new job', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', PETS);
    const issuesLauncher = new RecordingLauncher();
    const api = testApi({ store, issuesLauncher, syncIssueLimit: LIMIT });

    const first = await api.call('GET', '/datasets/pets/issues');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ kind: 'issues', status: 'queued', location: `/jobs/${first.body.jobId}` });
    expect(first.headers.location).toBe(`/jobs/${first.body.jobId}`);
    expect(issuesLauncher.launched).toEqual([first.body.jobId]);

    // Asked again while the job waits: the same job, not a second one.
    const second = await api.call('GET', '/datasets/pets/issues');
    expect(second.status).toBe(202);
    expect(second.body.jobId).toBe(first.body.jobId);
    expect(issuesLauncher.launched).toHaveLength(1);

    const queued = (await api.call('GET', `/jobs/${first.body.jobId}`)).body;
    expect(queued).toMatchObject({ kind: 'issues', status: 'queued', request: { dataset: 'pets' }, progress: { issues: { phase: 'queued', images: 0 } } });

    // The runner the launcher would start (the train function in the cloud, the server process locally).
    const done = await runIssuesJob(store, first.body.jobId, { namespace: NS });
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ key: queued.cacheKey, images: 24 });
    const shown = (await api.call('GET', `/jobs/${first.body.jobId}`)).body;
    expect(shown).toMatchObject({ status: 'succeeded', progress: { issues: { phase: 'done', images: 24 } }, result: { key: queued.cacheKey } });

    const served = await api.call('GET', '/datasets/pets/issues');
    expect(served.status).toBe(200);
    expect(served.body).toMatchObject({ dataset: 'pets', images: 24, cached: true });
    expect(served.body.labelIssues.length).toBe(done.result!.labelIssues);
    // The CLI's call (no limit) reads the same cached answer.
    expect(await datasetIssues(store, NS, 'pets', { maxImages: Infinity })).toEqual(served.body);

    // A new image changes the shard fingerprint: a new cache key, so a new job (the old answer is never served).
    await writeDataset(store, 'pets', { labels: { cat: 9, dog: 8, fox: 8 } });
    const changed = await api.call('GET', '/datasets/pets/issues');
    expect(changed.status).toBe(202);
    expect(changed.body.jobId).not.toBe(first.body.jobId);

    // A failed job is not reused: the next request starts another.
    await writeJob(store, { ...(await readJob(store, changed.body.jobId)), status: 'failed', error: { code: 'InternalError', message: 'test' } } as IssuesJobRecord);
    const retried = await api.call('GET', '/datasets/pets/issues');
    expect(retried.status).toBe(202);
    expect(retried.body.jobId).not.toBe(changed.body.jobId);
  });

  it('runs the job in the local server process: 202, GET /jobs/{id} until done, then 200 cached', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', PETS);
    const local = createLocalApi({ store, namespace: async () => NS, uploads: new FakeSigner(), syncIssueLimit: LIMIT });
    const call = async (path: string) => parseResult(await local.handler(apiEvent('GET', path), lambdaContext()));
    try {
      const started = await call('/datasets/pets/issues');
      expect(started.status).toBe(202);
      await local.issuesLauncher.idle();
      const job = (await call(`/jobs/${started.body.jobId}`)).body;
      expect(job).toMatchObject({ kind: 'issues', status: 'succeeded', result: { images: 24 } });
      const served = await call('/datasets/pets/issues');
      expect(served.status).toBe(200);
      expect(served.body).toMatchObject({ images: 24, cached: true, fingerprint: expect.any(String) });
      // Below the limit nothing changes: computed within the request.
      await writeDataset(store, 'small', { labels: { cat: 6, dog: 6 } });
      const small = await call('/datasets/small/issues');
      expect(small.status).toBe(200);
      expect(small.body).toMatchObject({ images: 12, cached: false });
    } finally {
      await local.close();
    }
  });

  it('answers 413 DatasetTooLarge where there is no job runner', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', PETS);
    const res = await testApi({ store, syncIssueLimit: LIMIT }).call('GET', '/datasets/pets/issues');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('DatasetTooLarge');
    expect(res.body.error.message).toContain('headstart issues pets');
  });
});

describe('recovering dataset issues jobs', () => {
  it('queues a running issues job again and fails one with no runner, never leaving it running', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', PETS);
    const running = await createIssuesJob(store, { dataset: 'pets' }, 'features/x/issues/pets/k.json');
    await writeJob(store, { ...running, status: 'running' });
    const launcher = new RecordingLauncher();
    expect(await recoverJobs(store, (kind) => (kind === 'issues' ? launcher : undefined))).toMatchObject({ resumed: [running.jobId], failed: [] });
    expect(launcher.launched).toEqual([running.jobId]);
    expect((await readJob(store, running.jobId)).status).toBe('queued');

    const orphan = await createIssuesJob(store, { dataset: 'pets' }, 'features/x/issues/pets/k.json');
    await writeJob(store, { ...orphan, status: 'running' });
    const recovered = await recoverJobs(store, () => undefined);
    expect(recovered.failed).toContain(orphan.jobId);
    expect(await readJob(store, orphan.jobId)).toMatchObject({ status: 'failed', error: { code: 'IssuesUnavailable' } });
  });
});

describe('the train function runs dataset issues jobs', () => {
  it('dispatches an issues job to the issues runner and writes the answer to the cache the route serves', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'pets', PETS);
    const started = await testApi({ store, issuesLauncher: new RecordingLauncher(), syncIssueLimit: LIMIT }).call('GET', '/datasets/pets/issues');
    const handler = createTrainHandler(async () => ({ store, namespace: async () => NS }));
    const result = await handler({ jobId: started.body.jobId }, lambdaContext());
    expect(result).toMatchObject({ jobId: started.body.jobId, status: 'succeeded' });
    const job = (await readJob(store, started.body.jobId)) as IssuesJobRecord;
    expect(await store.exists(job.result!.key)).toBe(true);
    expect((await testApi({ store, syncIssueLimit: LIMIT }).call('GET', '/datasets/pets/issues')).status).toBe(200);
  });
});
