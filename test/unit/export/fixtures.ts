import { tf } from '../../../src/engine/backend.js';
import { resolveFinetuneRequest, type FinetunedDraft } from '../../../src/finetune/index.js';

/** A published fine-tuned model small enough for a unit test: preprocessed 6×6 images → 2 classes. */
export function finetunedDraft(modelId: string): FinetunedDraft {
  const input = tf.input({ shape: [6, 6, 3] });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(conv) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'head_predictions' }).apply(pooled) as tf.SymbolicTensor;
  const request = resolveFinetuneRequest({ dataset: 'd', model: 'densenet121', unfreeze: 'conv5' });
  return {
    model: tf.model({ inputs: input, outputs: out }),
    config: {
      modelId, dataset: 'd', labels: ['cat', 'dog'],
      input: { size: [6, 6], preprocess: 'torch', interpolation: 'nearest' },
      base: { model: 'densenet121', weights: 'imagenet', weightsDigest: '0123456789abcdef' },
      finetunedBase: { weightsDigest: 'fedcba9876543210', layer: 'avg_pool', pooling: 'avg', namespace: 'densenet121@fedcba9876543210/avg_pool' },
      unfreeze: { spec: 'conv5', firstLayer: 'conv', trainableLayers: 1, trainableParams: 8, frozenParams: 0 },
      head: { fromHead: null, layers: ['head_predictions'] },
      training: { request, epochs: 1, bestEpoch: 1, rows: { train: 2, validation: 2 }, skipped: [], backend: 'wasm', durationMs: 1, resumedFromEpoch: 0 },
      library: 'test', createdAt: '2025-01-01T00:00:00.000Z', jobId: 'job-20250101-000000-00000000',
    },
    metrics: { accuracy: 0.5, loss: 0.7, perClass: {}, confusionMatrix: [[1, 0], [1, 0]], labels: ['cat', 'dog'], evaluatedOn: 'validation-split', rows: 2, bestEpoch: 1, history: [] },
  };
}
