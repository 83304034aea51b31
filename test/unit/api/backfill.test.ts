import { describe, expect, it } from 'vitest';
import { BatchBackfillLauncher, InProcessBackfillLauncher, type BackfillRequest, type BatchSdk } from '../../../functions/api/backfill.js';
import { testApi } from './fixtures.js';

function fakeBatchSdk(calls: unknown[], jobId = 'batch-job-1'): BatchSdk {
  return {
    BatchClient: class {
      async send(command: { input: unknown }) {
        calls.push(command.input);
        return { jobId };
      }
    } as unknown as BatchSdk['BatchClient'],
    SubmitJobCommand: class {
      constructor(readonly input: unknown) {}
    } as unknown as BatchSdk['SubmitJobCommand'],
  };
}

describe('POST /backfill', () => {
  it('submits the dataset prefix to the backfill launcher and answers 202', async () => {
    const requests: BackfillRequest[] = [];
    const api = testApi({ backfill: { submit: async (r) => (requests.push(r), { backfillId: 'b-1', runner: 'local' as const }) } });
    await api.store.put('images/fmnist/bag/1.png', 'x');
    const { status, body } = await api.call('POST', '/backfill', { body: { dataset: 'fmnist', shards: 4 } });
    expect(status).toBe(202);
    expect(body).toEqual({ backfillId: 'b-1', runner: 'local', dataset: 'fmnist', source: `s3://${api.store.bucket}/images/fmnist/`, shards: 4 });
    expect(requests).toEqual([{ dataset: 'fmnist', source: `s3://${api.store.bucket}/images/fmnist/`, shards: 4 }]);
  });

  it('answers 409 when the deployment has no GPU batch path, 404 for an unknown dataset, 400 for a bad body', async () => {
    const without = testApi();
    await without.store.put('images/fmnist/bag/1.png', 'x');
    const conflict = await without.call('POST', '/backfill', { body: { dataset: 'fmnist' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('BackfillUnavailable');
    expect(conflict.body.error.message).toContain("extractionMode 'batch' or 'both'");

    const api = testApi({ backfill: { submit: async () => ({ backfillId: 'x', runner: 'local' as const }) } });
    expect((await api.call('POST', '/backfill', { body: { dataset: 'nope' } })).status).toBe(404);
    const bad = await api.call('POST', '/backfill', { body: { dataset: 'fmnist', shards: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("'shards' must be an integer from 1 to 1000");
    expect((await api.call('POST', '/backfill', { body: { dataset: '../etc' } })).status).toBe(400);
  });
});

describe('BatchBackfillLauncher', () => {
  it('submits an array job of N children with the source, model and shard count as parameters', async () => {
    const calls: unknown[] = [];
    const launcher = new BatchBackfillLauncher({ jobQueue: 'q-arn', jobDefinition: 'jd-arn', model: 'resnet50', loadSdk: async () => fakeBatchSdk(calls) });
    expect(await launcher.submit({ dataset: 'fmnist', source: 's3://b/images/fmnist/', shards: 8 })).toEqual({ backfillId: 'batch-job-1', runner: 'batch' });
    await launcher.submit({ dataset: 'small', source: 's3://b/images/small/', shards: 1 });
    expect(calls[0]).toMatchObject({
      jobQueue: 'q-arn',
      jobDefinition: 'jd-arn',
      parameters: { source: 's3://b/images/fmnist/', model: 'resnet50', shards: '8' },
      arrayProperties: { size: 8 },
    });
    expect((calls[0] as { jobName: string }).jobName).toMatch(/^headstart-backfill-fmnist-\d+$/);
    // Batch needs at least 2 children for an array job: one shard is a plain job.
    expect(calls[1]).not.toHaveProperty('arrayProperties');
  });

  it('says what is missing when the Batch SDK cannot load', async () => {
    const launcher = new BatchBackfillLauncher({ jobQueue: 'q', jobDefinition: 'd', model: 'm', loadSdk: () => Promise.reject(new Error('Cannot find module')) });
    await expect(launcher.submit({ dataset: 'd', source: 's', shards: 1 })).rejects.toMatchObject({ code: 'BackfillFailed', message: expect.stringContaining('@aws-sdk/client-batch') });
  });
});

describe('InProcessBackfillLauncher', () => {
  it('runs submissions one at a time, off the request path', async () => {
    const order: string[] = [];
    const launcher = new InProcessBackfillLauncher(async (r) => {
      order.push(`start ${r.dataset}`);
      await new Promise((res) => setTimeout(res, 20));
      order.push(`end ${r.dataset}`);
    });
    const a = await launcher.submit({ dataset: 'a', source: 's', shards: 1 });
    await launcher.submit({ dataset: 'b', source: 's', shards: 1 });
    expect(a.runner).toBe('local');
    expect(order).toEqual([]);
    await launcher.idle();
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });
});
