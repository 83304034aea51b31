import { buildHeadModel } from '../../../src/heads/model.js';
import { resolveHeadSpec } from '../../../src/heads/spec.js';
import type { FeatureNamespace } from '../../../src/features/pipeline.js';
import { namespaceId } from '../../../src/features/pipeline.js';
import { publishHead, type HeadDraft, type HeadMetricsFile } from '../../../src/registry/index.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { LIBRARY_VERSION } from '../../../src/version.js';

/** The namespace of `FeaturePipeline.create({ model: 'mobilenet_v2', weights: null })`: its default feature layer. */
export const MOBILENET_RANDOM: FeatureNamespace = {
  model: 'mobilenet_v2',
  weightsDigest: 'random',
  layer: 'global_average_pooling2d',
  pooling: null,
  preprocess: 'tf',
  inputSize: [224, 224],
  interpolation: 'nearest',
  dtype: 'float32',
};

/**
 * Publishes an untrained head (seeded weights, so equal seeds predict alike) through the real registry,
 * as a training job would: the classify API reads it back with loadHead / HeadCache.
 */
export async function publishTestHead(store: ObjectStore, headId: string, labels: string[], base: FeatureNamespace = MOBILENET_RANDOM, seed = 7): Promise<void> {
  const dim = 1280;
  const spec = resolveHeadSpec({ hidden: [16], seed });
  const model = buildHeadModel(dim, labels.length, spec);
  const info = {
    headId,
    dataset: 'pets',
    validationDataset: null,
    labels,
    inputDim: dim,
    base: { ...base, namespace: namespaceId(base) },
    training: { spec, epochs: 1, bestEpoch: 1, rows: { train: 0, validation: 0 }, backend: 'test', durationMs: 0 },
    library: `headstart ${LIBRARY_VERSION}`,
    createdAt: new Date().toISOString(),
    jobId: null,
  } satisfies HeadDraft['info'];
  const metrics = { accuracy: 0, loss: 0, perClass: {}, confusionMatrix: [], labels, evaluatedOn: 'training', rows: 0, bestEpoch: 1, history: [] } as HeadMetricsFile;
  try {
    await publishHead(store, { model, info, metrics });
  } finally {
    model.dispose();
  }
}
