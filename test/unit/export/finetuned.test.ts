import * as ort from 'onnxruntime-node';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { exportModel, type ParityFile } from '../../../src/export/index.js';
import { publishFinetuned, resolveFinetuneRequest, type FinetunedDraft } from '../../../src/finetune/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { expectNoLeak } from '../../helpers/tf.js';

/** A published fine-tuned model small enough for a unit test: preprocessed 6×6 images → 2 classes. */
function draft(modelId: string): FinetunedDraft {
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

beforeAll(async () => {
  await initBackend('cpu');
});

describe('exportModel on a published fine-tuned model', () => {
  it('merges preprocessing in front of the registry model: its labels, its input size, ONNX Runtime gives parity.json', async () => {
    const store = new MemoryStore();
    const model = draft('pets-ft');
    await publishFinetuned(store, model);
    model.model.dispose();

    const bundle = await expectNoLeak(() => exportModel(store, 'pets-ft', 'onnx'));
    const files = unzipSync(bundle.zip);
    expect(JSON.parse(new TextDecoder().decode(files['labels.json']!))).toEqual(['cat', 'dog']);
    const readme = new TextDecoder().decode(files['README.md']!);
    expect(readme).toContain("fine-tuned model 'pets-ft' (densenet121)");
    expect(readme).toContain('densenet121@fedcba9876543210');
    const parity = JSON.parse(new TextDecoder().decode(files['parity.json']!)) as ParityFile;
    expect(parity.input.shape).toEqual([3, 6, 6, 3]);

    const session = await ort.InferenceSession.create(files['model.onnx']!);
    const pixels = Uint8Array.from(Buffer.concat(parity.cases.map((c) => Buffer.from(c.pixels, 'base64'))));
    const { probabilities } = await session.run({ image: new ort.Tensor('uint8', pixels, parity.input.shape) });
    const got = probabilities!.data as Float32Array;
    parity.cases.forEach((c, i) => c.probabilities.forEach((p, j) => expect(Math.abs(got[i * 2 + j]! - p)).toBeLessThan(parity.tolerance)));
    await session.release();
  });
});
