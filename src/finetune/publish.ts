import type { tf } from '../engine/backend.js';
import { exportToOnnx } from '../engine/onnx/export.js';
import { deserializeHead } from '../heads/serialize.js';
import { FINETUNED } from '../registry/kinds.js';
import { layersModelFiles } from '../registry/publish.js';
import { jsonBody as json, publishModel, type PublishedFile } from '../registry/published.js';
import type { ObjectStore } from '../store/index.js';
import { FINETUNED_FILES, validateFinetunedId } from './keys.js';
import { readFinetunedFile, readFinetunedPointer } from './read.js';
import type { FinetunedConfig, FinetunedMetricsFile, FinetunedPointer, FinetunedSummary } from './types.js';

export interface FinetunedDraft {
  /** The fine-tuned model (base + head); publishing reads its weights and leaves it to the caller. */
  model: tf.LayersModel;
  config: Omit<FinetunedConfig, 'format' | 'formatVersion'>;
  metrics: FinetunedMetricsFile;
}

export interface LoadedFinetuned {
  /** Image [n, h, w, 3] (preprocessed as config.input says) → probabilities [n, labels]. The caller owns it. */
  model: tf.LayersModel;
  config: FinetunedConfig;
  labels: string[];
}

/**
 * The files of a published model: TF.js layers format (model.json whose manifest points at
 * weights.bin, so `tf.loadLayersModel` on the folder works), labels, config, metrics, and the same
 * model exported to ONNX for the serving engine.
 */
async function bodies(draft: FinetunedDraft, config: FinetunedConfig): Promise<PublishedFile[]> {
  return [
    ...(await layersModelFiles(draft.model, FINETUNED_FILES)),
    [FINETUNED_FILES.labels, json(config.labels), 'application/json'],
    [FINETUNED_FILES.config, json(config), 'application/json'],
    [FINETUNED_FILES.metrics, json(draft.metrics), 'application/json'],
    [FINETUNED_FILES.onnx, Buffer.from(exportToOnnx(draft.model)), 'application/octet-stream'],
  ];
}

function summarize(config: FinetunedConfig, metrics: FinetunedMetricsFile): FinetunedSummary {
  return {
    modelId: config.modelId,
    dataset: config.dataset,
    labels: config.labels,
    model: config.base.model,
    namespace: config.finetunedBase.namespace,
    accuracy: metrics.accuracy,
    createdAt: config.createdAt,
    jobId: config.jobId,
  };
}

/**
 * Publishes under `models/finetuned/<modelId>/`: every file first, `_published.json` (with each file's
 * size and sha256) last (the registry's protocol, src/registry/published.ts).
 */
export async function publishFinetuned(store: ObjectStore, draft: FinetunedDraft): Promise<FinetunedPointer> {
  const modelId = validateFinetunedId(draft.config.modelId);
  const config: FinetunedConfig = { format: 'headstart-finetuned', formatVersion: 1, ...draft.config };
  const files = await bodies(draft, config);
  return publishModel(store, FINETUNED, modelId, files, summarize(config, draft.metrics));
}

/**
 * Loads a published fine-tuned model for classification: its TF.js model (the caller owns it), config
 * and labels. FinetunedModelNotFoundError when not published; CorruptFinetunedModelError when a file is
 * missing or not the bytes that were published.
 */
export async function loadFinetuned(store: ObjectStore, modelId: string): Promise<LoadedFinetuned> {
  const pointer = await readFinetunedPointer(store, modelId);
  const [modelJson, weights, config] = await Promise.all([
    readFinetunedFile(store, pointer, FINETUNED_FILES.model),
    readFinetunedFile(store, pointer, FINETUNED_FILES.weights),
    readFinetunedFile(store, pointer, FINETUNED_FILES.config),
  ]);
  const parsed = JSON.parse(config.toString('utf8')) as FinetunedConfig;
  try {
    return { model: await deserializeHead(JSON.parse(modelJson.toString('utf8')), weights), config: parsed, labels: parsed.labels };
  } catch (error) {
    throw FINETUNED.corrupt(modelId, (error as Error).message, { cause: error });
  }
}
