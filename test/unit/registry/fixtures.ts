import { namespaceId } from '../../../src/features/pipeline.js';
import { buildHeadModel } from '../../../src/heads/model.js';
import { resolveHeadSpec } from '../../../src/heads/spec.js';
import type { HeadDraft } from '../../../src/registry/index.js';
import type { ObjectStore, ObjectBody, PutOptions } from '../../../src/store/index.js';
import { NS } from '../jobs/fixtures.js';

export const LABELS = ['cat', 'dog', 'fox'];

/** A head draft with seeded random weights (registry tests do not need a trained head). The caller disposes draft.model. */
export function draftHead(headId: string, options: { dim?: number; accuracy?: number; createdAt?: string } = {}): HeadDraft {
  const dim = options.dim ?? 6;
  const spec = resolveHeadSpec({ hidden: [4], seed: 7 });
  const model = buildHeadModel(dim, LABELS.length, spec);
  const history = [{ epoch: 1, loss: 1.1, accuracy: 0.4, valLoss: 1.0, valAccuracy: 0.5, elapsedMs: 3, etaMs: 0 }];
  return {
    model,
    info: {
      headId,
      dataset: 'pets',
      validationDataset: null,
      labels: LABELS,
      inputDim: dim,
      base: { ...NS, namespace: namespaceId(NS) },
      training: { spec, epochs: 1, bestEpoch: 1, rows: { train: 12, validation: 3 }, backend: 'cpu', durationMs: 5 },
      library: '0.1.0',
      createdAt: options.createdAt ?? '2025-01-01T00:00:00.000Z',
      jobId: 'job-20250101-000000-00000000',
    },
    metrics: {
      accuracy: options.accuracy ?? 2 / 3,
      loss: 0.9,
      labels: LABELS,
      perClass: Object.fromEntries(LABELS.map((l) => [l, { precision: 1, recall: 1, f1: 1, support: 1 }])),
      confusionMatrix: [[1, 0, 0], [0, 1, 0], [0, 1, 0]],
      evaluatedOn: 'validation-split',
      rows: 3,
      bestEpoch: 1,
      history,
    },
  };
}

/** Operations seen by a RecordingStore, in order: 'put models/heads/x/model.json', 'delete …'. */
export type Operation = `${'put' | 'delete'} ${string}`;

/**
 * Wraps a store: records puts and deletes, and can "kill the process" after `killAfterPuts` puts: from
 * then on every operation fails, as if nothing ran any more (no cleanup can happen either).
 */
export function recordingStore(inner: ObjectStore, options: { killAfterPuts?: number } = {}): ObjectStore & { operations: Operation[]; killed: boolean } {
  const operations: Operation[] = [];
  let puts = 0;
  const state = { killed: false };
  const alive = () => {
    if (state.killed) throw new Error('process killed');
  };
  return {
    bucket: inner.bucket,
    operations,
    get killed() {
      return state.killed;
    },
    get: (key) => (alive(), inner.get(key)),
    getStream: (key) => (alive(), inner.getStream(key)),
    head: (key) => (alive(), inner.head(key)),
    exists: (key) => (alive(), inner.exists(key)),
    list: (prefix, o) => (alive(), inner.list(prefix, o)),
    listAll: (prefix) => (alive(), inner.listAll(prefix)),
    async put(key: string, body: ObjectBody, o?: PutOptions) {
      alive();
      if (options.killAfterPuts !== undefined && puts >= options.killAfterPuts) {
        state.killed = true;
        throw new Error('process killed');
      }
      puts++;
      operations.push(`put ${key}`);
      return inner.put(key, body, o);
    },
    async delete(key: string) {
      alive();
      operations.push(`delete ${key}`);
      return inner.delete(key);
    },
  };
}
