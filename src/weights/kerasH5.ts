import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import { WeightsFormatError } from './errors.js';
import { stripVariableSuffix, type LayerWeights, type WeightArray } from './types.js';

type H5Group = InstanceType<typeof h5wasm.Group>;

/**
 * Reads a Keras 2 HDF5 weights file (`*_weights_tf_dim_ordering_tf_kernels*.h5`, `model.save_weights('x.h5')`)
 * or a full-model .h5 (weights under `model_weights/`) into LayerWeights. Layer order comes from the root
 * attribute `layer_names`, weight order from each layer group's `weight_names` (Keras order), as Keras'
 * own `load_weights` reads them.
 */
export async function readKerasH5(file: string): Promise<LayerWeights> {
  const path = resolve(file);
  try {
    await access(path);
  } catch (cause) {
    throw new WeightsFormatError(`No weights file at '${path}'.`, { cause });
  }
  await h5wasm.ready;
  const h5 = openFile(path);
  try {
    return readLayers(weightsRoot(h5, path));
  } finally {
    h5.close();
  }
}

function openFile(path: string): InstanceType<typeof h5wasm.File> {
  try {
    const h5 = new h5wasm.File(path, 'r');
    // h5wasm signals an unreadable file with a negative id instead of throwing.
    if (h5.file_id < 0n) throw new Error('H5Fopen failed');
    return h5;
  } catch (cause) {
    throw new WeightsFormatError(`'${path}' is not an HDF5 file: expected a Keras .h5 weights file.`, { cause });
  }
}

/** The group holding `layer_names`: the root of a weights file, `model_weights` of a full-model file. */
function weightsRoot(h5: H5Group, path: string): H5Group {
  if (hasAttribute(h5, 'layer_names')) return h5;
  const nested = h5.get('model_weights');
  if (nested instanceof h5wasm.Group && hasAttribute(nested, 'layer_names')) return nested;
  const keys = h5.keys();
  if (keys.includes('layers') || keys.includes('vars')) {
    throw new WeightsFormatError(`'${path}' is a Keras 3 '.weights.h5' file, which stores weights by object path, not by layer name: save it with Keras 2 (tf.keras) or export a TF.js layers model.`);
  }
  throw new WeightsFormatError(`'${path}' is HDF5 but not a Keras weights file: it has no 'layer_names' attribute (top-level groups: ${keys.slice(0, 5).join(', ') || 'none'}).`);
}

function readLayers(root: H5Group): LayerWeights {
  const result: LayerWeights = [];
  for (const layer of readStringList(root, 'layer_names')) {
    const group = root.get(layer);
    if (!(group instanceof h5wasm.Group)) throw new WeightsFormatError(`Layer '${layer}' is listed in layer_names but has no group in the file.`);
    const weights = readStringList(group, 'weight_names').map((name) => readWeight(group, layer, name));
    if (weights.length > 0) result.push({ layer, weights });
  }
  return result;
}

function readWeight(group: H5Group, layer: string, weightName: string): WeightArray {
  const dataset = group.get(weightName);
  if (!(dataset instanceof h5wasm.Dataset)) {
    throw new WeightsFormatError(`Weight '${weightName}' of layer '${layer}' is listed in weight_names but is not a dataset.`);
  }
  const value = dataset.value;
  if (!ArrayBuffer.isView(value) || value instanceof BigInt64Array || value instanceof BigUint64Array) {
    throw new WeightsFormatError(`Weight '${weightName}' of layer '${layer}' is not a numeric array (dtype ${JSON.stringify(dataset.dtype)}).`);
  }
  const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>);
  const bare = stripVariableSuffix(weightName);
  const name = bare.startsWith(`${layer}/`) ? bare.slice(layer.length + 1) : bare;
  return { name, shape: dataset.shape ?? [], data };
}

function hasAttribute(group: H5Group, name: string): boolean {
  const attrs = group.attrs;
  return name in attrs || `${name}0` in attrs;
}

/**
 * A string-list attribute. Keras splits attributes over 64 KB into `name0`, `name1`, … chunks
 * (`save_attributes_to_hdf5_group`); they are joined back here.
 */
function readStringList(group: H5Group, name: string): string[] {
  const attrs = group.attrs;
  if (name in attrs) return toStrings(attrs[name]!.value);
  const chunks: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) chunks.push(...toStrings(attrs[`${name}${i}`]!.value));
  return chunks;
}

function toStrings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (value instanceof Uint8Array) return [new TextDecoder().decode(value)];
  if (Array.isArray(value)) return value.flatMap(toStrings);
  return [String(value)];
}
