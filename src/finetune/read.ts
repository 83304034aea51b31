import { FINETUNED } from '../registry/kinds.js';
import { deleteModel, listModels, readModelFile, readModelJson, readModelPointer } from '../registry/published.js';
import type { ObjectStore } from '../store/index.js';
import type { FinetunedConfig, FinetunedMetricsFile, FinetunedPointer, FinetunedSummary } from './types.js';

// The fine-tuned kind's reads (the registry's rules, src/registry): no model code, so the API lists, shows
// and deletes with this module alone.

/** The pointer of a published fine-tuned model; FinetunedModelNotFoundError when there is none. */
export function readFinetunedPointer(store: ObjectStore, modelId: string): Promise<FinetunedPointer> {
  return readModelPointer<FinetunedSummary>(store, FINETUNED, modelId);
}

/** A file of a published model, checked against the digest in its pointer. */
export function readFinetunedFile(store: ObjectStore, pointer: FinetunedPointer, file: string): Promise<Buffer> {
  return readModelFile(store, FINETUNED, pointer, file);
}

/** A JSON file of a published model (config.json, metrics.json), checked against its digest. */
export function readFinetunedJson<T>(store: ObjectStore, pointer: FinetunedPointer, file: string): Promise<T> {
  return readModelJson<T>(store, FINETUNED, pointer, file);
}

/** config.json and metrics.json of a published model. */
export async function getFinetuned(store: ObjectStore, modelId: string): Promise<{ config: FinetunedConfig; metrics: FinetunedMetricsFile; pointer: FinetunedPointer }> {
  const pointer = await readFinetunedPointer(store, modelId);
  const [config, metrics] = await Promise.all([
    readFinetunedJson<FinetunedConfig>(store, pointer, FINETUNED.files.config),
    readFinetunedJson<FinetunedMetricsFile>(store, pointer, FINETUNED.files.metrics),
  ]);
  return { config, metrics, pointer };
}

/** Every published fine-tuned model, newest first; folders without a pointer (a publish in progress or killed) are left out. */
export function listFinetuned(store: ObjectStore): Promise<FinetunedSummary[]> {
  return listModels<FinetunedSummary>(store, FINETUNED, (model) => model.modelId);
}

/**
 * Unpublishes a fine-tuned model (the pointer first, so readers stop seeing it at once), then removes its
 * files. FinetunedModelNotFoundError when it is not published.
 */
export function deleteFinetuned(store: ObjectStore, modelId: string): Promise<void> {
  return deleteModel(store, FINETUNED, modelId);
}

export { assertModelIdFree } from '../registry/published.js';
