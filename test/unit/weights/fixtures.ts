import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { tf } from '../../../src/engine/backend.js';
import type { WeightsTarget } from '../../../src/weights/target.js';
import type { LayerWeights } from '../../../src/weights/types.js';

type Sym = tf.SymbolicTensor;
const call = (layer: tf.layers.Layer, x: Sym): Sym => layer.apply(x) as Sym;

/**
 * A small functional model with Keras-style names, including '/' in layer names as DenseNet has:
 * conv1/conv (no bias) → conv1/bn → block1_conv1 → global pool, and with the top fc1 → predictions.
 */
export function tinyModel({ includeTop = true, classes = 2, name = 'tiny' }: { includeTop?: boolean; classes?: number; name?: string } = {}): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'input_1' });
  let x = call(tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false, name: 'conv1/conv' }), input);
  x = call(tf.layers.batchNormalization({ name: 'conv1/bn' }), x);
  x = call(tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', name: 'block1_conv1' }), x);
  x = call(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  if (includeTop) {
    x = call(tf.layers.dense({ units: 5, activation: 'relu', name: 'fc1' }), x);
    x = call(tf.layers.dense({ units: classes, activation: 'softmax', name: 'predictions' }), x);
  }
  return tf.model({ inputs: input, outputs: x, name });
}

export const TINY_BASE_LAYERS = ['conv1/conv', 'conv1/bn', 'block1_conv1'];
export const TINY_TOP_LAYERS = ['fc1', 'predictions'];

/** A WeightsTarget over tinyModel, with made-up official files (md5 given by the test). */
export function tinyTarget(md5: { top: string | null; notop: string | null } = { top: null, notop: null }): WeightsTarget {
  const file = (suffix: string, hash: string | null) => ({
    fileName: `tiny_weights_tf_dim_ordering_tf_kernels${suffix}.h5`,
    url: `https://storage.googleapis.com/tensorflow/keras-applications/tiny/tiny_weights_tf_dim_ordering_tf_kernels${suffix}.h5`,
    md5: hash,
  });
  return { id: 'tiny', build: (includeTop) => tinyModel({ includeTop }), files: { top: file('', md5.top), notop: file('_notop', md5.notop) }, aliases: {} };
}

/**
 * Deterministic weights shaped like `model`'s, in its layer and weight order, with values that differ
 * for every layer, weight and seed: value(i) = seed + layer·10 + weight + (i mod 7)/8 (exact in float32).
 */
export function patternWeights(model: tf.LayersModel, seed = 0): LayerWeights {
  return model.layers
    .filter((layer) => layer.weights.length > 0)
    .map((layer, l) => ({
      layer: layer.name,
      weights: layer.weights.map((w, k) => {
        const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
        const data = Float32Array.from({ length: size }, (_, i) => seed + l * 10 + k + (i % 7) / 8);
        return { name: w.originalName.slice(layer.name.length + 1), shape: w.shape as number[], data };
      }),
    }));
}

/** The model's current weights as LayerWeights (reads tensors, disposes them). */
export function modelWeights(model: tf.LayersModel): LayerWeights {
  return model.layers
    .filter((layer) => layer.weights.length > 0)
    .map((layer) => ({
      layer: layer.name,
      weights: layer.weights.map((w) => {
        const value = w.read();
        return { name: w.originalName.slice(layer.name.length + 1), shape: w.shape as number[], data: value.dataSync() as Float32Array };
      }),
    }));
}

function ensureGroup(root: InstanceType<typeof h5wasm.Group>, path: string): InstanceType<typeof h5wasm.Group> {
  let group = root;
  for (const part of path.split('/')) {
    const next = group.get(part);
    group = next instanceof h5wasm.Group ? next : group.create_group(part);
  }
  return group;
}

function writeStrings(group: InstanceType<typeof h5wasm.Group>, name: string, values: string[]): void {
  const width = Math.max(1, ...values.map((v) => Buffer.byteLength(v)));
  group.create_attribute(name, values, [values.length], `S${width}`);
}

export interface KerasH5Options {
  /** Write a full-model file: weights under /model_weights, as `model.save('x.h5')` does. */
  fullModel?: boolean;
  /** Split layer_names into layer_names0, layer_names1 chunks, as Keras does above 64 KB. */
  chunked?: boolean;
  /** Weight-less layers to list in layer_names with an empty weight_names (as Keras writes them). */
  emptyLayers?: string[];
}

/**
 * Writes `weights` in the Keras 2 HDF5 layout (`save_weights_to_hdf5_group`): layer_names on the root,
 * one group per layer (nested where the name has '/'), weight_names 'layer/weight:0' relative to it.
 */
export async function writeKerasH5(path: string, weights: LayerWeights, options: KerasH5Options = {}): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  try {
    const root = options.fullModel ? file.create_group('model_weights') : file;
    const layerNames = [...weights.map((l) => l.layer), ...(options.emptyLayers ?? [])];
    if (options.chunked) {
      const half = Math.ceil(layerNames.length / 2);
      writeStrings(root, 'layer_names0', layerNames.slice(0, half));
      writeStrings(root, 'layer_names1', layerNames.slice(half));
    } else {
      writeStrings(root, 'layer_names', layerNames);
    }
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', '2.1.4');
    for (const { layer, weights: list } of weights) {
      const group = ensureGroup(root, layer);
      const names = list.map((w) => `${layer}/${w.name}:0`);
      writeStrings(group, 'weight_names', names);
      list.forEach((w, i) => {
        const parts = names[i]!.split('/');
        const parent = ensureGroup(group, parts.slice(0, -1).join('/'));
        parent.create_dataset({ name: parts.at(-1)!, data: w.data, shape: w.shape, dtype: '<f' });
      });
    }
    for (const layer of options.emptyLayers ?? []) ensureGroup(root, layer).create_attribute('weight_names', [], [0], 'S1');
  } finally {
    file.close();
  }
}

export interface TfjsFolderOptions {
  /** 'old': one group per layer, topology under model_config (Keras 2.1 converter); 'current': one group, format 'layers-model'. */
  style: 'old' | 'current';
  /** Weight name decoration: ':0' suffix and/or a '<model name>/' prefix. */
  suffix?: boolean;
  modelPrefix?: string;
  /** Shard size for the current style: weights then straddle shard boundaries. */
  shardBytes?: number;
  /** Layer names in the topology; defaults to the weights' layers plus an input and a pooling layer. */
  topologyLayers?: string[];
}

/** Writes a TF.js layers-model folder (model.json + shards) holding `weights`, float32. */
export async function writeTfjsFolder(dir: string, weights: LayerWeights, options: TfjsFolderOptions): Promise<void> {
  await mkdir(dir, { recursive: true });
  const decorate = (layer: string, w: string) => `${options.modelPrefix ? `${options.modelPrefix}/` : ''}${layer}/${w}${options.suffix ? ':0' : ''}`;
  const layerNames = options.topologyLayers ?? ['input_1', ...weights.map((l) => l.layer), 'avg_pool'];
  const config = { name: 'tiny', layers: layerNames.map((name) => ({ name, class_name: 'Layer', config: { name } })) };
  const groups: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] = [];
  if (options.style === 'old') {
    for (const [g, { layer, weights: list }] of weights.entries()) {
      const path = `group${g + 1}-shard1of1`;
      await writeFile(join(dir, path), concat(list.map((w) => w.data)));
      groups.push({ paths: [path], weights: list.map((w) => ({ name: decorate(layer, w.name), shape: w.shape, dtype: 'float32' })) });
    }
  } else {
    const all = concat(weights.flatMap((l) => l.weights.map((w) => w.data)));
    const shardBytes = options.shardBytes ?? all.byteLength;
    const paths: string[] = [];
    const count = Math.ceil(all.byteLength / shardBytes);
    for (let s = 0; s < count; s++) {
      paths.push(`group1-shard${s + 1}of${count}.bin`);
      await writeFile(join(dir, paths[s]!), all.subarray(s * shardBytes, (s + 1) * shardBytes));
    }
    groups.push({ paths, weights: weights.flatMap(({ layer, weights: list }) => list.map((w) => ({ name: decorate(layer, w.name), shape: w.shape, dtype: 'float32' }))) });
  }
  const topology = options.style === 'old' ? { keras_version: '2.1.4-tf', backend: 'tensorflow', model_config: { class_name: 'Model', config } } : { class_name: 'Model', config };
  const modelJson = options.style === 'old' ? { modelTopology: topology, weightsManifest: groups } : { format: 'layers-model', generatedBy: 'test', convertedBy: null, modelTopology: topology, weightsManifest: groups };
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
}

function concat(arrays: Float32Array[]): Buffer {
  return Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** Layer and weight names with shapes, for comparing LayerWeights without the data. */
export function outline(weights: LayerWeights): [string, [string, number[]][]][] {
  return weights.map((l) => [l.layer, l.weights.map((w) => [w.name, w.shape] as [string, number[]])]);
}
