import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { FinetuneNetwork, FinetuneTrainer, freshHead, layerWeightsOf } from '../../../src/finetune/index.js';
import { mulberry32 } from '../../../src/heads/random.js';
import { applyWeights } from '../../../src/weights/index.js';
import { buildModel } from '../../../src/zoo/index.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { calibrateBatchNorm, sameBits, weightsByLayer } from './fixtures.js';

const SIZE = 32;
let network: FinetuneNetwork;
let x: tf.Tensor4D;
const labels = Int32Array.from([0, 1, 0, 1, 1, 0]);

beforeAll(async () => {
  await initBackend();
  const base = buildModel('mobilenet_v2', { includeTop: false, pooling: 'avg', inputShape: [SIZE, SIZE, 3] });
  x = tf.randomUniform([6, SIZE, SIZE, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
  calibrateBatchNorm(base, x);
  network = FinetuneNetwork.create(base, freshHead(2, { hidden: 8, dropout: 0.3, seed: 1 }), 'block_15');
});

afterAll(() => {
  network.dispose();
  x.dispose();
});

function steps(trainer: FinetuneTrainer, n: number, seed = 1): void {
  const dropout = mulberry32(seed);
  for (let i = 0; i < n; i++) {
    const frontier = network.frozenForward(x);
    trainer.step(frontier, labels, dropout);
    tf.dispose(frontier);
  }
}

describe('FinetuneNetwork + FinetuneTrainer', () => {
  it('marks frozen layers untrainable and trains exactly the rest', () => {
    const first = network.model.layers.findIndex((l) => l.name === 'block_15_expand');
    expect(network.plan.firstLayer).toBe('block_15_expand');
    expect(network.model.layers.slice(1, first).every((l) => !l.trainable)).toBe(true);
    expect(network.model.layers.slice(first).every((l) => l.trainable)).toBe(true);
    expect(network.frontier.map((t) => t.sourceLayer.name)).toEqual(['block_14_add']);
  });

  it('changes trainable weights, leaves frozen ones bit-identical and BatchNorm statistics untouched, without leaking', async () => {
    const before = weightsByLayer(network.model);
    await expectNoLeak(() => {
      const trainer = new FinetuneTrainer(network, 1e-2);
      steps(trainer, 3);
      trainer.dispose();
    });
    const after = weightsByLayer(network.model);
    const trainable = new Set(network.model.layers.filter((l) => l.trainable).map((l) => l.name));
    for (const [name, weights] of before) {
      const now = after.get(name)!;
      const layer = network.model.getLayer(name);
      if (!trainable.has(name)) {
        expect(weights.every((w, i) => sameBits(w, now[i]!)), `frozen ${name}`).toBe(true);
        continue;
      }
      expect(sameBits(weights[0]!, now[0]!), `trainable ${name} did not move`).toBe(false);
      if (layer.getClassName() === 'BatchNormalization') {
        expect(sameBits(weights[2]!, now[2]!) && sameBits(weights[3]!, now[3]!), `moving statistics of ${name}`).toBe(true);
      }
    }
  });

  it('predicts as the layers model does in inference (dropout off, BatchNorm on moving statistics), leaking nothing', async () => {
    const ours = await expectNoLeak(() => {
      const probs = network.predict(x);
      const values = probs.dataSync().slice();
      probs.dispose();
      return values;
    });
    const keras = network.model.predict(x) as tf.Tensor;
    const reference = keras.dataSync();
    expect(Math.max(...Array.from(ours, (v, i) => Math.abs(v - reference[i]!)))).toBeLessThan(1e-5);
    // The training forward (BatchNorm as an affine map, our convolution gradients) computes the same function.
    const training = tf.tidy(() => network.trainableForward(network.frozenForward(x), { differentiable: true }));
    expect(Math.max(...Array.from(training.dataSync(), (v, i) => Math.abs(v - reference[i]!)))).toBeLessThan(1e-5);
    tf.dispose([keras, training]);
  });

  it('restores Adam: a trainer given the saved state takes the step the original takes', async () => {
    const original = new FinetuneTrainer(network, 1e-2);
    steps(original, 2);
    const state = await original.optimizerState();
    const saved = layerWeightsOf(network.model.layers.filter((l) => l.trainable));
    expect(state.iterations).toBe(2);
    steps(original, 1, 9);
    const expected = layerWeightsOf(network.model.layers.filter((l) => l.trainable));
    original.dispose();

    applyWeights(network.model, saved, { skipMissing: true });
    const resumed = new FinetuneTrainer(network, 1e-2);
    await resumed.setOptimizerState(state);
    steps(resumed, 1, 9);
    const actual = layerWeightsOf(network.model.layers.filter((l) => l.trainable));
    resumed.dispose();
    let worst = 0;
    actual.forEach((layer, i) => layer.weights.forEach((w, j) => {
      const e = expected[i]!.weights[j]!.data;
      w.data.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - e[k]!))));
    }));
    // Not bit-exact: TF.js' Adam.setWeights recomputes β^t with pow where training multiplied by β each step (1 ulp).
    expect(worst).toBeLessThan(1e-6);
  });

  it('keeps and restores a snapshot of the best weights', () => {
    const trainer = new FinetuneTrainer(network, 1e-2);
    trainer.snapshot();
    const best = layerWeightsOf(network.model.layers.filter((l) => l.trainable));
    steps(trainer, 1);
    trainer.restoreSnapshot();
    const restored = layerWeightsOf(network.model.layers.filter((l) => l.trainable));
    restored.forEach((layer, i) => layer.weights.forEach((w, j) => expect(sameBits(w.data, best[i]!.weights[j]!.data)).toBe(true)));
    expect(trainer.snapshotWeights()![0]!.weights.map((w) => w.name)).toContain('head_predictions/kernel');
    trainer.dispose();
  });

  it('hands out a copy of the input when everything trains, so the caller keeps its tensor', () => {
    const base = buildModel('mobilenet_v2', { includeTop: false, pooling: 'avg', inputShape: [SIZE, SIZE, 3] });
    const all = FinetuneNetwork.create(base, freshHead(2, { hidden: 4, dropout: 0, seed: 2 }), { lastN: base.layers.length - 1 });
    expect(all.frontier.map((t) => t.sourceLayer.getClassName())).toEqual(['InputLayer']);
    const [frontier] = all.frozenForward(x);
    expect(frontier).not.toBe(x);
    frontier!.dispose();
    expect(x.isDisposed).toBe(false);
    all.dispose();
  });
});
