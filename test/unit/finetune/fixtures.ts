import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tf } from '../../../src/engine/backend.js';
import { runGraph } from '../../../src/finetune/graph.js';
import { serializeHead } from '../../../src/heads/serialize.js';
import { mulberry32 } from '../../../src/heads/random.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { buildModel } from '../../../src/zoo/index.js';

export const LABELS = ['horizontal', 'square', 'vertical'] as const;
export type Pattern = (typeof LABELS)[number];

/** A small class-dependent picture: horizontal stripes, vertical stripes or a bright square, plus seeded noise. */
export async function patternPng(label: Pattern, seed: number, size = 24): Promise<Buffer> {
  const random = mulberry32(seed);
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inSquare = x > size / 4 && x < (3 * size) / 4 && y > size / 4 && y < (3 * size) / 4;
      const on = label === 'horizontal' ? y % 6 < 3 : label === 'vertical' ? x % 6 < 3 : inSquare;
      for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, (on ? 200 : 40) + Math.round((random() - 0.5) * 60) + c * 10));
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}


/** `images/<dataset>/<label>/img-<i>.png`, `perLabel` of each of the three patterns. Returns the keys. */
export async function putPatternDataset(store: ObjectStore, dataset: string, perLabel: number): Promise<string[]> {
  const keys: string[] = [];
  for (const [c, label] of LABELS.entries()) {
    for (let i = 0; i < perLabel; i++) {
      const key = `images/${dataset}/${label}/img-${i}.png`;
      await store.put(key, await patternPng(label, 1000 * c + i));
      keys.push(key);
    }
  }
  return keys;
}

/** Writes a model as a TF.js layers folder (model.json + one shard), the form `loadModel({ weights: dir })` reads. */
export async function writeTfjsFolder(model: tf.LayersModel, dir: string): Promise<void> {
  const { modelJson, weightsBin } = await serializeHead(model);
  await mkdir(dir, { recursive: true });
  const manifest = modelJson.weightsManifest.map((g) => ({ ...g, paths: ['weights.bin'] }));
  await writeFile(join(dir, 'model.json'), JSON.stringify({ ...modelJson, weightsManifest: manifest }));
  await writeFile(join(dir, 'weights.bin'), weightsBin);
}

/**
 * Sets every BatchNormalization's moving statistics to the mean and variance its input really has on
 * `x` (gamma and beta random), layer by layer in graph order: a random deep network with default
 * statistics saturates and barely depends on its input, which would make every training test vacuous.
 */
export function calibrateBatchNorm(model: tf.LayersModel, x: tf.Tensor4D, seed = 7): void {
  const random = mulberry32(seed);
  const uniform = (t: tf.Tensor, low: number) => tf.tensor(Float32Array.from({ length: t.size }, () => low + random()), t.shape);
  tf.tidy(() => {
    runGraph(new Map([[model.inputs[0]!.id, x as tf.Tensor]]), model.outputs, (layer, inputs) => {
      if (layer.getClassName() === 'BatchNormalization') {
        const { mean, variance } = tf.moments(inputs[0]!, [0, 1, 2]);
        const [gamma, beta] = layer.getWeights();
        layer.setWeights([uniform(gamma!, 0.5), uniform(beta!, -0.5), mean, variance]);
      }
      const out = layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: false }) as tf.Tensor | tf.Tensor[];
      return Array.isArray(out) ? out : [out];
    });
  });
}

/**
 * A random no-top model (avg pooling) with calibrated BatchNorm statistics (calibrateBatchNorm on the
 * pattern images), saved as a TF.js folder so every job in a test starts from the same base weights.
 */
export async function randomBaseFolder(size: number, model = 'mobilenet_v2'): Promise<string> {
  const base = buildModel(model, { includeTop: false, pooling: 'avg', inputShape: [size, size, 3] });
  try {
    const pixels = await Promise.all(LABELS.flatMap((label, c) => [0, 1].map(async (i) => {
      const { data } = await sharp(await patternPng(label, 1000 * c + i)).resize(size, size, { kernel: 'nearest' }).raw().toBuffer({ resolveWithObject: true });
      return Float32Array.from(data, (v) => v / 127.5 - 1);
    })));
    const x = tf.tensor4d(Float32Array.from(pixels.flatMap((p) => Array.from(p))), [pixels.length, size, size, 3]);
    calibrateBatchNorm(base, x);
    x.dispose();
    const dir = await mkdtemp(join(tmpdir(), 'headstart-finetune-base-'));
    await writeTfjsFolder(base, dir);
    return dir;
  } finally {
    base.dispose();
  }
}

/** Weights of a model by layer name, copied to host arrays. */
export function weightsByLayer(model: tf.LayersModel): Map<string, Float32Array[]> {
  return new Map(
    model.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array))]),
  );
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const [ua, ub] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
  return ua.every((v, i) => v === ub[i]);
}
