import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainHandler, DEADLINE_MARGIN_MS } from '../../../functions/train/handler.js';
import { initBackend } from '../../../src/engine/backend.js';
import { createJob, readJob } from '../../../src/jobs/index.js';
import { listHeads } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { WeightsUnavailableError } from '../../../src/weights/errors.js';
import { lambdaContext } from '../../helpers/events.js';
import { FAST_HEAD, NS, THREE_CLASSES, quietLogs, writeDataset } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

async function setup() {
  const store = new MemoryStore();
  await writeDataset(store, 'pets', THREE_CLASSES);
  return { store, handler: createTrainHandler(async () => ({ store, namespace: async () => NS })) };
}

describe('train function handler', () => {
  it('runs the job named by the event and returns its outcome', async () => {
    const { store, handler } = await setup();
    const job = await createJob(store, { dataset: 'pets', head: FAST_HEAD });
    const result = await handler({ jobId: job.jobId }, lambdaContext());
    expect(result).toEqual({ jobId: job.jobId, status: 'succeeded', headId: expect.stringMatching(/^pets-\d{8}-\d{6}-[0-9a-f]{6}$/), error: undefined });
    expect((await listHeads(store)).map((h) => h.headId)).toEqual([result.headId]);
  });

  it('stops before the time limit and records the job as timed out, publishing nothing', async () => {
    const { store, handler } = await setup();
    const job = await createJob(store, { dataset: 'pets', head: { ...FAST_HEAD, epochs: 1000, patience: 1000 } });
    const result = await handler({ jobId: job.jobId }, lambdaContext(DEADLINE_MARGIN_MS + 300));
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      code: 'TrainingTimeout',
      message: expect.stringContaining("Training stopped 15 s before the train function's time limit: lower head.epochs or head.patience"),
    });
    const record = await readJob(store, job.jobId);
    expect(record.history.length).toBeLessThan(1000);
    expect(await listHeads(store)).toEqual([]);
  });

  it('fails the job with the reason when the namespace cannot be resolved (no weights index)', async () => {
    const store = new MemoryStore();
    const job = await createJob(store, { dataset: 'pets' });
    const handler = createTrainHandler(async () => ({
      store,
      namespace: async () => {
        throw new WeightsUnavailableError("No weights index for 'densenet121': run `headstart weights pull densenet121`.");
      },
    }));
    expect(await handler({ jobId: job.jobId }, lambdaContext())).toEqual({
      jobId: job.jobId,
      status: 'failed',
      headId: undefined,
      error: { code: 'WeightsUnavailable', message: "No weights index for 'densenet121': run `headstart weights pull densenet121`." },
    });
    expect((await readJob(store, job.jobId)).status).toBe('failed');
  });

  it.each([[{}], [{ jobId: 42 }], [null], [{ jobId: '../x' }]])('rejects the event %j', async (event) => {
    const { handler } = await setup();
    await expect(handler(event, lambdaContext())).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
