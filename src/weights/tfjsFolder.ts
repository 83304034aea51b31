import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decodeWeightBytes, storedByteLength, type StoredWeightSpec } from './dequantize.js';
import { WeightsFormatError } from './errors.js';
import { sizeOf, stripVariableSuffix, type LayerWeights, type WeightArray } from './types.js';

interface ManifestGroup {
  paths: string[];
  weights: StoredWeightSpec[];
}

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: ManifestGroup[];
}

/** Layer names declared by a Keras/TF.js topology (nested models included). */
type LayerNames = Set<string>;

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a TF.js layers-model folder (model.json + binary shards) into LayerWeights.
 * Both manifest styles work: the old per-group one (one group per layer, shards per group) and the
 * current one (one group whose `paths` concatenate into one buffer). Quantised weights are dequantised.
 * Weights are grouped by the topology's layer names, longest prefix first, because Keras layer names
 * may themselves contain '/' (DenseNet's 'conv1/bn'). `path` may be the folder or its model.json.
 */
export async function readTfjsLayersFolder(path: string): Promise<LayerWeights> {
  const jsonPath = (await isDirectory(path)) ? join(path, 'model.json') : path;
  const modelJson = await readModelJson(jsonPath);
  const names = topologyNames(modelJson.modelTopology);
  const byLayer = new Map<string, WeightArray[]>();
  for (const group of modelJson.weightsManifest!) {
    const buffer = await readGroup(dirname(jsonPath), group);
    let offset = 0;
    for (const spec of group.weights) {
      const size = sizeOf(spec.shape);
      const length = storedByteLength(spec, size);
      if (offset + length > buffer.byteLength) {
        throw new WeightsFormatError(`Shards ${group.paths.join(', ')} end before weight '${spec.name}' (needs bytes ${offset}–${offset + length}, shards hold ${buffer.byteLength}).`);
      }
      const data = decodeWeightBytes(buffer.subarray(offset, offset + length), spec, size);
      offset += length;
      const { layer, weight } = splitWeightName(stripVariableSuffix(spec.name), names);
      const list = byLayer.get(layer) ?? [];
      list.push({ name: weight, shape: [...spec.shape], data });
      byLayer.set(layer, list);
    }
  }
  return [...byLayer].map(([layer, weights]) => ({ layer, weights }));
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (cause) {
    throw new WeightsFormatError(`No TF.js model at '${path}': expected a folder with model.json and its weight shards.`, { cause });
  }
}

async function readModelJson(jsonPath: string): Promise<ModelJson> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (cause) {
    throw new WeightsFormatError(`Cannot read TF.js model.json at '${jsonPath}': ${(cause as Error).message}`, { cause });
  }
  if (!isObject(parsed) || !Array.isArray(parsed.weightsManifest)) {
    throw new WeightsFormatError(`'${jsonPath}' is not a TF.js model.json: it has no weightsManifest.`);
  }
  if (parsed.format === 'graph-model') {
    throw new WeightsFormatError(`'${jsonPath}' is a TF.js graph model, which has no layer names to load by: convert the Keras model with --output_format tfjs_layers_model.`);
  }
  return parsed as ModelJson;
}

/** The group's shards, concatenated: weights may straddle shard boundaries. */
async function readGroup(dir: string, group: ManifestGroup): Promise<Buffer> {
  const parts = await Promise.all(
    group.paths.map(async (p) => {
      try {
        return await readFile(join(dir, p));
      } catch (cause) {
        throw new WeightsFormatError(`Missing weight shard '${p}' in '${dir}' (listed in model.json).`, { cause });
      }
    }),
  );
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Walks Functional/Sequential configs (nested models included) and collects names. */
function topologyNames(topology: unknown): LayerNames {
  const names: LayerNames = new Set();
  const root = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  collectModel(root, names);
  return names;
}

function collectModel(model: unknown, names: LayerNames): void {
  if (!isObject(model)) return;
  const config = model.config;
  // Sequential models of old Keras versions store the layer list directly as config.
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) return;
  for (const layer of layers) {
    if (!isObject(layer)) continue;
    const name = typeof layer.name === 'string' ? layer.name : isObject(layer.config) ? layer.config.name : undefined;
    if (typeof name === 'string') names.add(name);
    collectModel(layer, names);
  }
}

/**
 * 'conv1/bn/gamma' → layer 'conv1/bn', weight 'gamma': the longest topology layer name that prefixes the
 * weight name. A leading model scope ('densenet121/conv1/bn/gamma') is tried next. Without a topology the
 * last '/' separates layer and weight.
 */
function splitWeightName(fullName: string, names: LayerNames): { layer: string; weight: string } {
  const direct = longestLayerPrefix(fullName, names);
  if (direct) return direct;
  const slash = fullName.indexOf('/');
  if (slash > 0) {
    const unscoped = longestLayerPrefix(fullName.slice(slash + 1), names);
    if (unscoped) return unscoped;
  }
  const last = fullName.lastIndexOf('/');
  if (names.size === 0 && last > 0) return { layer: fullName.slice(0, last), weight: fullName.slice(last + 1) };
  throw new WeightsFormatError(`Weight '${fullName}' in the manifest belongs to no layer of the model.json topology.`);
}

function longestLayerPrefix(name: string, layers: Set<string>): { layer: string; weight: string } | undefined {
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const layer = name.slice(0, i);
    if (layers.has(layer)) return { layer, weight: name.slice(i + 1) };
  }
  return undefined;
}
