import { tf } from '../engine/backend.js';
import { InvalidHeadModelError } from './errors.js';

/** The single weights shard's file name, as `model.save('file://…')` names it next to model.json. */
export const HEAD_WEIGHTS_FILE = 'model.weights.bin';

/**
 * The head in TF.js layers format: `modelJson` is what model.json holds (topology + weights manifest
 * pointing at one shard), `weightsBin` that shard. Optimizer state is not saved: a head is retrained,
 * not resumed.
 */
export async function serializeHead(model: tf.LayersModel): Promise<{ modelJson: tf.io.ModelJSON; weightsBin: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs || saved.weightData === undefined) {
    throw new InvalidHeadModelError('serializeHead: the model produced no topology or weights.');
  }
  const weightsBin = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData));
  const modelJson: tf.io.ModelJSON = {
    modelTopology: saved.modelTopology,
    format: saved.format ?? 'layers-model',
    generatedBy: saved.generatedBy,
    convertedBy: saved.convertedBy ?? null,
    weightsManifest: [{ paths: [HEAD_WEIGHTS_FILE], weights: saved.weightSpecs }],
  };
  return { modelJson, weightsBin };
}

function bytesOf(spec: tf.io.WeightsManifestEntry): number {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  return size * (spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : 1);
}

/** Reads a head back from its model.json object and its one weights shard. The caller owns the model. */
export async function deserializeHead(modelJson: unknown, weightsBin: Uint8Array): Promise<tf.LayersModel> {
  const json = modelJson as Partial<tf.io.ModelJSON> | null;
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new InvalidHeadModelError('deserializeHead: modelJson needs modelTopology and weightsManifest (the content of a TF.js model.json).');
  }
  if (!(weightsBin instanceof Uint8Array)) throw new InvalidHeadModelError('deserializeHead: weightsBin must be a Uint8Array.');
  const weightSpecs = tf.io.getWeightSpecs(json.weightsManifest);
  const expected = weightSpecs.reduce((sum, spec) => sum + bytesOf(spec), 0);
  if (expected !== weightsBin.byteLength) {
    throw new InvalidHeadModelError(`deserializeHead: the manifest describes ${expected} bytes of weights but weightsBin has ${weightsBin.byteLength}.`);
  }
  // Copy into an ArrayBuffer of exactly these bytes: a Node Buffer is a view into a shared pool, and its
  // slice() is a view too.
  const weightData = new Uint8Array(weightsBin).buffer;
  const artifacts = tf.io.getModelArtifactsForJSONSync(json as tf.io.ModelJSON, weightSpecs, weightData);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new InvalidHeadModelError(`deserializeHead: not a loadable TF.js layers model (${(error as Error).message}).`, { cause: error });
  }
}
