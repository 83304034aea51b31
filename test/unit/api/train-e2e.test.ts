import { beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi } from '../../../functions/api/local.js';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { loadDatasetFeatures } from '../../../src/features/shards.js';
import { evaluateHead } from '../../../src/heads/index.js';
import { loadHead } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { apiEvent, lambdaContext, parseResult } from '../../helpers/events.js';
import { NS, quietLogs, writeDataset } from '../jobs/fixtures.js';
import { FakeSigner } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});
quietLogs();

const LABELS = { ankle_boot: 40, bag: 40, coat: 40, dress: 40 };

describe('POST /train end to end on features in the real storage layout', () => {
  it('trains off the request path with defaults, publishes, and the loaded head classifies held-out images', async () => {
    const store = new MemoryStore();
    await writeDataset(store, 'clothes', { labels: LABELS, dim: 32, pending: { bag: 3 }, failed: { coat: 2 } });
    await writeDataset(store, 'clothes-test', { labels: { ankle_boot: 10, bag: 10, coat: 10, dress: 10 }, dim: 32, seed: 5 });
    const { handler, launcher } = createLocalApi({ store, namespace: async () => NS, uploads: new FakeSigner() });
    const call = async (method: string, path: string, body?: unknown) => parseResult(await handler(apiEvent(method, path, { body }), lambdaContext()));
    const tensorsBefore = tf.memory().numTensors;

    const started = await call('POST', '/train', { dataset: 'clothes' });
    expect(started.status).toBe(202);
    const statuses = new Set<string>();
    let job = (await call('GET', `/jobs/${started.body.jobId}`)).body;
    while (job.status === 'queued' || job.status === 'running') {
      statuses.add(job.status);
      await new Promise((resolve) => setTimeout(resolve, 5));
      job = (await call('GET', `/jobs/${started.body.jobId}`)).body;
    }
    await launcher.idle();
    // The API answered while the job was queued and while it ran.
    expect([...statuses]).toEqual(['queued', 'running']);
    // The default head is 'auto': cross-validation on every row, then a refit on all of them (nothing held back).
    expect(job).toMatchObject({ status: 'succeeded', data: { dim: 32, rows: { train: 160, validation: 0 }, skipped: { pending: 3, failed: 2 } } });
    expect(job.selection.candidates.map((c: { name: string }) => c.name)).toEqual(['linear C=0.001', 'linear C=0.01', 'linear C=0.1', 'linear C=1', 'mlp 256']);
    expect(job.progress.search).toMatchObject({ phase: 'calibration', name: job.selection.chosen });
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const details = (await call('GET', `/models/${job.headId}`)).body;
    expect(details).toMatchObject({ labels: ['ankle_boot', 'bag', 'coat', 'dress'], training: { auto: { type: 'auto', folds: 5, chosen: job.selection.chosen } } });
    expect(details.metrics).toMatchObject({ evaluatedOn: 'out-of-fold', rows: 160, evaluation: { source: 'out-of-fold' } });
    expect(details.metrics.evaluation.samples).toHaveLength(160);
    expect(details.metrics.accuracy).toBeGreaterThanOrEqual(0.95);

    const test = await loadDatasetFeatures(store, NS, 'clothes-test');
    const { model, head } = await loadHead(store, job.headId);
    try {
      const metrics = evaluateHead(model, test, head.labels);
      expect(metrics.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(metrics.confusionMatrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([10, 10, 10, 10]);
    } finally {
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await launcher.close();
  });
});
