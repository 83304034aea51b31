import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BatchFinetuneLauncher } from '../../../functions/api/launchers.js';
import type { WorkerStatus } from '../../../src/jobs/types.js';
import type { BatchSdk } from '../../../functions/api/batch.js';
import { initBackend } from '../../../src/engine/backend.js';
import type { FeatureNamespace } from '../../../src/features/pipeline.js';
import { FinetuneJobRecorder } from '../../../src/finetune/record.js';
import { createFinetuneJob, presentJob, readJob, STALE_RUNNING_MS, writeJob, type StoredJob } from '../../../src/jobs/index.js';
import { MOBILENET_RANDOM, publishTestHead } from '../classify-api/heads.js';
import { putPatternDataset } from '../finetune/fixtures.js';
import { RecordingLauncher, testApi } from './fixtures.js';

/** The service's base in these tests: MobileNetV2, whose avg-pooled features a head can start fine-tuning from. */
const SERVICE: FeatureNamespace = { ...MOBILENET_RANDOM, pooling: 'avg' };

beforeAll(async () => {
  await initBackend();
});

async function finetuneApi(options: { finetuneLauncher?: RecordingLauncher | null } = {}) {
  const finetuneLauncher = options.finetuneLauncher === null ? undefined : (options.finetuneLauncher ?? new RecordingLauncher());
  const api = testApi({ namespace: async () => SERVICE, finetuneLauncher });
  await putPatternDataset(api.store, 'shapes', 2);
  return { api, finetuneLauncher: finetuneLauncher as RecordingLauncher };
}

const body = (over: Record<string, unknown> = {}) => ({ mode: 'finetune', dataset: 'shapes', unfreeze: 'block_16', ...over });

describe('POST /train {"mode": "finetune"}', () => {
  it('queues a fine-tuning job with the service model, hands it to the fine-tuning launcher, and answers 202', async () => {
    const { api, finetuneLauncher } = await finetuneApi();
    const res = await api.call('POST', '/train', { body: body({ epochs: 3, augment: true, fromHead: undefined }) });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ jobId: expect.stringMatching(/^job-/), kind: 'finetune', status: 'queued', location: `/jobs/${res.body.jobId}` });
    expect(finetuneLauncher.launched).toEqual([res.body.jobId]);
    // The head-training launcher is not involved.
    expect((api.launcher as RecordingLauncher).launched).toEqual([]);
    const job = await readJob(api.store, res.body.jobId);
    expect(job).toMatchObject({
      kind: 'finetune',
      status: 'queued',
      request: { dataset: 'shapes', model: 'mobilenet_v2', unfreeze: 'block_16', epochs: 3, augment: true },
      progress: { epoch: 0, epochs: 3 },
    });
    expect(job.request).not.toHaveProperty('mode');
    // GET /jobs/{id} shows it from the start.
    expect((await api.call('GET', `/jobs/${res.body.jobId}`)).body).toMatchObject({ kind: 'finetune', status: 'queued' });
  });

  it('uses the defaults for what the body leaves out (5 epochs)', async () => {
    const { api } = await finetuneApi();
    const res = await api.call('POST', '/train', { body: body({ unfreeze: { lastN: 10 } }) });
    expect((await readJob(api.store, res.body.jobId)).progress.epochs).toBe(5);
  });

  it.each([
    [{ weights: '/etc/passwd' }, "'weights' is not taken by POST /train"],
    [{ epoch: 3 }, "Unknown fine-tuning field 'epoch'"],
    [{ unfreeze: undefined }, "'unfreeze' is required with mode 'finetune'"],
    [{ unfreeze: { lastN: -1 } }, "'unfreeze' must be a layer name"],
    [{ learningRate: 2 }, "'learningRate' must be a number with 0 < learningRate < 1"],
    [{ augment: { flip: 'yes' } }, "'augment.flip' must be true or false"],
    [{ dataset: '../x' }, 'dataset'],
  ])('400 for %j, naming the field (%s), and records no job', async (over, message) => {
    const { api, finetuneLauncher } = await finetuneApi();
    const res = await api.call('POST', '/train', { body: body(over) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect(finetuneLauncher.launched).toEqual([]);
    const jobs = [];
    for await (const info of api.store.listAll('jobs/')) jobs.push(info.key);
    expect(jobs).toEqual([]);
  });

  it('400 for another base model than the service has; 400 for an unknown mode', async () => {
    const { api } = await finetuneApi();
    const other = await api.call('POST', '/train', { body: body({ model: 'densenet121' }) });
    expect(other).toMatchObject({ status: 400, body: { error: { code: 'BaseModelMismatch' } } });
    const mode = await api.call('POST', '/train', { body: body({ mode: 'transfer' }) });
    expect(mode).toMatchObject({ status: 400, body: { error: { message: `Unknown mode "transfer": expected 'head' or 'finetune'.` } } });
  });

  it('404 for an unknown dataset or head; 400 for a head trained on other features', async () => {
    const { api } = await finetuneApi();
    expect(await api.call('POST', '/train', { body: body({ dataset: 'nope' }) })).toMatchObject({ status: 404, body: { error: { code: 'UnknownDataset' } } });
    expect(await api.call('POST', '/train', { body: body({ fromHead: 'shapes-head' }) })).toMatchObject({ status: 404, body: { error: { code: 'HeadNotFound' } } });
    await publishTestHead(api.store, 'block-head', ['horizontal', 'square', 'vertical'], { ...MOBILENET_RANDOM, layer: 'block_16_project' });
    const mismatch = await api.call('POST', '/train', { body: body({ fromHead: 'block-head' }) });
    expect(mismatch).toMatchObject({ status: 400, body: { error: { code: 'HeadMismatch' } } });
    expect(mismatch.body.error.message).toContain("layer 'global_average_pooling2d' or pooling 'avg'");
    await publishTestHead(api.store, 'pooled-head', ['horizontal', 'square', 'vertical']);
    expect((await api.call('POST', '/train', { body: body({ fromHead: 'pooled-head' }) })).status).toBe(202);
  });

  it('409 ModelIdTaken for a modelId a published head or fine-tuned model has', async () => {
    const { api, finetuneLauncher } = await finetuneApi();
    await publishTestHead(api.store, 'taken-head', ['horizontal', 'square', 'vertical']);
    expect(await api.call('POST', '/train', { body: body({ modelId: 'taken-head' }) })).toMatchObject({
      status: 409,
      body: { error: { code: 'ModelIdTaken', message: "Model id 'taken-head' is taken by a published head: choose another 'modelId', or DELETE /models/taken-head first." } },
    });
    await api.store.put('models/finetuned/taken-ft/_published.json', JSON.stringify({ modelId: 'taken-ft', summary: { jobId: 'job-20250101-000000-00000000' }, files: {} }));
    expect(await api.call('POST', '/train', { body: body({ modelId: 'taken-ft' }) })).toMatchObject({ status: 409, body: { error: { code: 'ModelIdTaken' } } });
    expect(finetuneLauncher.launched).toEqual([]);
    expect((await api.call('POST', '/train', { body: body({ modelId: 'free-id' }) })).status).toBe(202);
  });

  it('409 FinetuneUnavailable when the deployment has no fine-tuning worker; head training still works', async () => {
    const { api } = await finetuneApi({ finetuneLauncher: null });
    const res = await api.call('POST', '/train', { body: body() });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'FinetuneUnavailable' } } });
    expect(res.body.error.message).toContain('-c finetune=true');
    const head = await api.call('POST', '/train', { body: { mode: 'head', dataset: 'shapes' } });
    expect(head.status).toBe(202);
    expect((await readJob(api.store, head.body.jobId)).request).toEqual({ dataset: 'shapes' });
  });

  it('a launch that fails records the job as failed and answers 5xx', async () => {
    const launcher = new RecordingLauncher();
    launcher.failWith = new Error('Batch is down');
    const { api } = await finetuneApi({ finetuneLauncher: launcher });
    const res = await api.call('POST', '/train', { body: body() });
    expect(res.status).toBe(500);
    const jobs: StoredJob[] = [];
    for await (const info of api.store.listAll('jobs/')) jobs.push(JSON.parse((await api.store.get(info.key)).toString()));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'finetune', status: 'failed', error: { code: 'InternalError' } });
  });
});

describe('POST /jobs/{id}/resume', () => {
  async function failedJob(api: Awaited<ReturnType<typeof finetuneApi>>['api'], status: StoredJob['status'] = 'failed'): Promise<StoredJob> {
    const job = await createFinetuneJob(api.store, { dataset: 'shapes', model: 'mobilenet_v2', unfreeze: 'block_16', epochs: 4 }, 4);
    const stored: StoredJob = {
      ...job,
      status,
      startedAt: job.createdAt,
      finishedAt: status === 'failed' ? job.createdAt : null,
      progress: { ...job.progress, epoch: 2 },
      ...(status === 'failed' ? { error: { code: 'TrainingAborted', message: 'stopped' } } : {}),
    };
    await writeJob(api.store, stored);
    return stored;
  }

  it('queues a failed fine-tuning job again under the same id and launches it', async () => {
    const { api, finetuneLauncher } = await finetuneApi();
    const job = await failedJob(api);
    const res = await api.call('POST', `/jobs/${job.jobId}/resume`);
    expect(res).toMatchObject({ status: 202, body: { jobId: job.jobId, kind: 'finetune', status: 'queued', resumedAfterEpoch: 2 } });
    expect(finetuneLauncher.launched).toEqual([job.jobId]);
    const stored = await readJob(api.store, job.jobId);
    expect(stored).toMatchObject({ status: 'queued', finishedAt: null, progress: { epoch: 2 } });
    expect(stored.error).toBeUndefined();
  });

  it('resumes a running job whose worker went quiet (shown as TrainerLost), not a live one', async () => {
    const { api, finetuneLauncher } = await finetuneApi();
    const job = await failedJob(api, 'running');
    const live = await api.call('POST', `/jobs/${job.jobId}/resume`);
    expect(live).toMatchObject({ status: 409, body: { error: { code: 'NotResumable' } } });
    const quiet = { ...(await readJob(api.store, job.jobId)), updatedAt: new Date(Date.now() - STALE_RUNNING_MS - 60_000).toISOString() };
    await api.store.put(`jobs/${job.jobId}.json`, JSON.stringify(quiet));
    const shown = await api.call('GET', `/jobs/${job.jobId}`);
    expect(shown.body).toMatchObject({ status: 'failed', error: { code: 'TrainerLost', message: expect.stringContaining(`POST /jobs/${job.jobId}/resume`) } });
    expect((await api.call('POST', `/jobs/${job.jobId}/resume`)).status).toBe(202);
    expect(finetuneLauncher.launched).toEqual([job.jobId]);
  });

  it('409 for a succeeded job and for a head-training job; 404 for an unknown one', async () => {
    const { api } = await finetuneApi();
    const done = await failedJob(api, 'succeeded');
    expect(await api.call('POST', `/jobs/${done.jobId}/resume`)).toMatchObject({ status: 409, body: { error: { code: 'NotResumable' } } });
    const head = await api.call('POST', '/train', { body: { dataset: 'shapes' } });
    const res = await api.call('POST', `/jobs/${head.body.jobId}/resume`);
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'NotResumable', message: expect.stringContaining('POST /train again') } } });
    expect((await api.call('POST', '/jobs/job-20250101-000000-00000000/resume')).status).toBe(404);
  });

  it('a launch that fails puts the job back as it was (still resumable)', async () => {
    const launcher = new RecordingLauncher();
    const { api } = await finetuneApi({ finetuneLauncher: launcher });
    const job = await failedJob(api);
    launcher.failWith = new Error('Batch is down');
    expect((await api.call('POST', `/jobs/${job.jobId}/resume`)).status).toBe(500);
    expect(await readJob(api.store, job.jobId)).toMatchObject({ status: 'failed', error: { code: 'TrainingAborted' } });
  });
});

describe('fine-tuning progress records', () => {
  it('stamp updatedAt, and write batch progress within an epoch at most every HEARTBEAT_MS', async () => {
    const { api } = await finetuneApi();
    const queued = await createFinetuneJob(api.store, { dataset: 'shapes', model: 'mobilenet_v2', unfreeze: 'block_16' }, 5);
    const recorder = await FinetuneJobRecorder.start(api.store, queued.jobId, queued.request, 5);
    const started = await readJob(api.store, queued.jobId);
    expect(started).toMatchObject({ status: 'running', createdAt: queued.createdAt, updatedAt: expect.any(String) });
    await recorder.batch(1, 40);
    // Just written by start(): the heartbeat waits.
    expect((await readJob(api.store, queued.jobId)).progress.batch).toBeUndefined();
    (recorder as unknown as { lastWrite: number }).lastWrite = Date.now() - FinetuneJobRecorder.HEARTBEAT_MS;
    await recorder.batch(7, 40);
    expect((await readJob(api.store, queued.jobId)).progress).toMatchObject({ batch: 7, batches: 40, epoch: 0 });
    expect(presentJob(await readJob(api.store, queued.jobId)).status).toBe('running');
  });
});

describe('BatchFinetuneLauncher', () => {
  function fakeSdk(calls: unknown[], reply: () => Promise<{ jobId?: string }>): BatchSdk {
    return {
      BatchClient: class {
        send = (command: { input: unknown }) => (calls.push(command.input), reply());
      } as unknown as BatchSdk['BatchClient'],
      SubmitJobCommand: class {
        constructor(readonly input: unknown) {}
      } as unknown as BatchSdk['SubmitJobCommand'],
    };
  }

  it('submits the fine-tuning job definition with the job id as its one parameter', async () => {
    const calls: unknown[] = [];
    const launcher = new BatchFinetuneLauncher({ jobQueue: 'q-arn', jobDefinition: 'ft-arn', loadSdk: async () => fakeSdk(calls, async () => ({ jobId: 'b-1' })) });
    const log = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      await launcher.launch('job-20260101-120000-0123abcd');
      // The Batch job id goes to the logs (the job record is the worker's to write once it runs).
      expect(log.mock.calls.map(([line]) => JSON.parse(String(line)))).toEqual([
        expect.objectContaining({ jobId: 'job-20260101-120000-0123abcd', batchJobId: 'b-1', jobName: 'headstart-finetune-job-20260101-120000-0123abcd' }),
      ]);
    } finally {
      log.mockRestore();
    }
    expect(calls).toEqual([
      { jobName: 'headstart-finetune-job-20260101-120000-0123abcd', jobQueue: 'q-arn', jobDefinition: 'ft-arn', parameters: { jobId: 'job-20260101-120000-0123abcd' } },
    ]);
  });

  it('turns a refusal or a missing SDK into a LaunchError that says what failed', async () => {
    const refused = new BatchFinetuneLauncher({ jobQueue: 'q', jobDefinition: 'd', loadSdk: async () => fakeSdk([], () => Promise.reject(new Error('AccessDenied'))) });
    await expect(refused.launch('job-20260101-120000-0123abcd')).rejects.toMatchObject({
      code: 'LaunchFailed',
      message: 'AWS Batch did not accept fine-tuning job job-20260101-120000-0123abcd: AccessDenied',
    });
    const missing = new BatchFinetuneLauncher({ jobQueue: 'q', jobDefinition: 'd', loadSdk: () => Promise.reject(new Error('Cannot find module')) });
    await expect(missing.launch('job-20260101-120000-0123abcd')).rejects.toMatchObject({ code: 'LaunchFailed', message: expect.stringContaining('@aws-sdk/client-batch') });
  });
});

describe('POST /train {"mode": "finetune"}: the unfreeze spec against the base', () => {
  it('400 UnfreezeSpec for a layer or block the service model does not have, listing its blocks; lastN within its layers', async () => {
    const { api, finetuneLauncher } = await finetuneApi();
    const res = await api.call('POST', '/train', { body: body({ unfreeze: 'conv5' }) });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'UnfreezeSpec' } } });
    expect(res.body.error.message).toContain("Unknown layer or block 'conv5' in mobilenet_v2");
    expect(res.body.error.message).toContain("'block_16'");
    const tooMany = await api.call('POST', '/train', { body: body({ unfreeze: { lastN: 155 } }) });
    expect(tooMany.body.error.message).toBe('unfreeze.lastN must be an integer from 0 to 154 (the layers of mobilenet_v2 after its input), got 155.');
    expect(finetuneLauncher.launched).toEqual([]);
    for (const unfreeze of ['block_16', 'block_16_expand', 'Conv_1', { lastN: 154 }]) {
      expect((await api.call('POST', '/train', { body: body({ unfreeze }) })).status, JSON.stringify(unfreeze)).toBe(202);
    }
  });
});

describe('GET /jobs/{id} of a queued fine-tuning job: the runner\'s view', () => {
  class DescribingLauncher extends RecordingLauncher {
    status?: WorkerStatus | Error;
    async describe(): Promise<WorkerStatus | undefined> {
      if (this.status instanceof Error) throw this.status;
      return this.status;
    }
  }

  async function queuedJob(launcher: DescribingLauncher) {
    const { api } = await finetuneApi({ finetuneLauncher: launcher });
    const res = await api.call('POST', '/train', { body: body() });
    return { api, jobId: res.body.jobId as string };
  }

  it('shows where Batch has it (RUNNABLE: waiting for a GPU) beside the queued record', async () => {
    const launcher = new DescribingLauncher();
    const { api, jobId } = await queuedJob(launcher);
    launcher.status = { runner: 'aws-batch', status: 'RUNNABLE', id: 'b-7' };
    expect((await api.call('GET', `/jobs/${jobId}`)).body).toMatchObject({ status: 'queued', worker: { runner: 'aws-batch', status: 'RUNNABLE', id: 'b-7' } });
    // Never stored: the record stays the worker's.
    expect(await readJob(api.store, jobId)).not.toHaveProperty('worker');
  });

  it('shows a job whose container never started as failed (WorkerFailed), and resume queues it again without the view', async () => {
    const launcher = new DescribingLauncher();
    const { api, jobId } = await queuedJob(launcher);
    launcher.status = { runner: 'aws-batch', status: 'FAILED', statusReason: 'CannotPullContainerError: manifest unknown', id: 'b-8' };
    const shown = await api.call('GET', `/jobs/${jobId}`);
    expect(shown.body).toMatchObject({ status: 'failed', error: { code: 'WorkerFailed' } });
    expect(shown.body.error.message).toContain('CannotPullContainerError: manifest unknown');
    expect((await api.call('POST', `/jobs/${jobId}/resume`)).status).toBe(202);
    expect(launcher.launched).toEqual([jobId, jobId]);
    const stored = await readJob(api.store, jobId);
    expect(stored).toMatchObject({ status: 'queued' });
    expect(stored).not.toHaveProperty('worker');
  });

  it('a runner that cannot be asked leaves the record as it is', async () => {
    const launcher = new DescribingLauncher();
    const { api, jobId } = await queuedJob(launcher);
    launcher.status = new Error('AccessDenied');
    const error = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const shown = await api.call('GET', `/jobs/${jobId}`);
      expect(shown).toMatchObject({ status: 200, body: { status: 'queued' } });
      expect(shown.body).not.toHaveProperty('worker');
    } finally {
      error.mockRestore();
    }
  });

  it('BatchFinetuneLauncher.describe finds the newest Batch job of that name on the queue', async () => {
    const calls: unknown[] = [];
    const sdk: BatchSdk = {
      BatchClient: class {
        send = async (command: { input: unknown }) => (
          calls.push(command.input),
          { jobSummaryList: [{ jobId: 'old', status: 'FAILED', createdAt: 1 }, { jobId: 'new', status: 'RUNNING', createdAt: 2 }] }
        );
      } as unknown as BatchSdk['BatchClient'],
      SubmitJobCommand: class {} as unknown as BatchSdk['SubmitJobCommand'],
      ListJobsCommand: class {
        constructor(readonly input: unknown) {}
      } as unknown as BatchSdk['ListJobsCommand'],
    };
    const launcher = new BatchFinetuneLauncher({ jobQueue: 'q-arn', jobDefinition: 'd', loadSdk: async () => sdk });
    expect(await launcher.describe('job-20260101-120000-0123abcd')).toEqual({ runner: 'aws-batch', status: 'RUNNING', id: 'new', statusReason: undefined });
    expect(calls).toEqual([{ jobQueue: 'q-arn', filters: [{ name: 'JOB_NAME', values: ['headstart-finetune-job-20260101-120000-0123abcd'] }] }]);
  });
});
