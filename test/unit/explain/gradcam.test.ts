import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { gradCam, overlayPng } from '../../../src/explain/index.js';
import { FinetuneNetwork } from '../../../src/finetune/index.js';
import { expectNoLeak } from '../../helpers/tf.js';

/**
 * Grad-CAM's arithmetic on a network small enough to check by hand: conv (4 maps) → global average pooling →
 * Dense(3). Through GAP and a Dense layer the gradient of class c's logit is W[k, c] / (h·w) at every position,
 * so Grad-CAM there is CAM (Zhou et al. 2016): ReLU(Σ_k W[k, c] A_k), scaled to a maximum of 1.
 */
const H = 6;
const W = 5;
const K = 4;
const CLASSES = 3;

function smallNetwork(activation: 'linear' | 'softmax'): FinetuneNetwork {
  const input = tf.input({ shape: [H, W, 3] });
  const maps = tf.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(maps) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: CLASSES, activation, name: 'predictions', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), biasInitializer: 'ones' }).apply(pooled) as tf.SymbolicTensor;
  const base = tf.model({ inputs: input, outputs: output });
  return FinetuneNetwork.create(base, { layers: [], fromHead: null }, 'pool');
}

/** CAM by hand from the conv activations and the Dense kernel; `weights` picks each class's column mix. */
function handCam(network: FinetuneNetwork, x: tf.Tensor4D, column: (kernel: number[][], k: number) => number): number[] {
  const [a] = network.frozenForward(x);
  const activations = a!.arraySync() as number[][][][];
  a!.dispose();
  const kernel = network.model.getLayer('predictions').getWeights()[0]!.arraySync() as number[][];
  const cam: number[] = [];
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) cam.push(Math.max(0, activations[0]![i]![j]!.reduce((s, v, k) => s + v * column(kernel, k), 0)));
  const max = Math.max(...cam);
  return cam.map((v) => (max > 0 ? v / max : 0));
}

let x: tf.Tensor4D;

beforeAll(async () => {
  await initBackend();
  x = tf.randomUniform([1, H, W, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
});

describe('gradCam', () => {
  it('on logits through GAP and Dense is CAM: ReLU(Σ_k W[k, c] A_k), the top class by default', async () => {
    const network = smallNetwork('linear');
    const result = await expectNoLeak(() => gradCam(network, x, 'logits'));
    const logits = (network.predict(x).arraySync() as number[][])[0]!;

    expect(result.classIndex).toBe(logits.indexOf(Math.max(...logits)));
    expect([result.height, result.width]).toEqual([H, W]);
    const expected = handCam(network, x, (kernel, k) => kernel[k]![result.classIndex]!);
    Array.from(result.map).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(Math.max(...result.map)).toBeCloseTo(1, 6);
    const sum = result.probabilities.reduce((s, p) => s + p, 0);
    expect(sum).toBeCloseTo(1, 5);
    network.dispose();
  });

  it('on probabilities uses the centred logit: the weights are W[k, c] − mean_j W[k, j]; `classIndex` picks the class', async () => {
    const network = smallNetwork('softmax');
    const result = await expectNoLeak(() => gradCam(network, x, 'probabilities', 2));

    expect(result.classIndex).toBe(2);
    const expected = handCam(network, x, (kernel, k) => kernel[k]![2]! - kernel[k]!.reduce((s, v) => s + v, 0) / CLASSES);
    Array.from(result.map).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    network.dispose();
  });

  it('refuses a class the network does not have', () => {
    const network = smallNetwork('linear');
    expect(() => gradCam(network, x, 'logits', CLASSES)).toThrow(/integer from 0 to 2, got 3/);
    network.dispose();
  });
});

describe('overlayPng', () => {
  it('paints the hot cell of the map red over the photo and the cold ones blue, at the photo size', async () => {
    const photo = await sharp({ create: { width: 80, height: 40, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
    const map = { width: 2, height: 1, values: [0, 1] };

    const png = await overlayPng(photo, map);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });

    expect([info.width, info.height, info.channels]).toEqual([80, 40, 3]);
    const at = (x: number, y: number) => Array.from(data.subarray((y * 80 + x) * 3, (y * 80 + x) * 3 + 3));
    const [coldR, , coldB] = at(2, 20);
    const [hotR, , hotB] = at(77, 20);
    expect(coldB!).toBeGreaterThan(coldR! + 30);
    expect(hotR!).toBeGreaterThan(hotB! + 30);
  });
});
