import { mapLimit } from '../features/concurrency.js';
import { sha256Hex as sha256 } from '../features/keys.js';
import { readJson } from '../registry/store-json.js';
import type { ObjectStore } from '../store/index.js';
import { pointerKey as headPointerKey } from '../registry/keys.js';
import { CorruptFinetunedModelError, FinetunedModelNotFoundError, ModelIdTakenError } from './errors.js';
import { FINETUNED_FILES, FINETUNED_POINTER, FINETUNED_PREFIX, finetunedKey, finetunedPointerKey } from './keys.js';
import type { FinetunedConfig, FinetunedMetricsFile, FinetunedPointer, FinetunedSummary } from './types.js';

// Reading the fine-tuned registry needs no model code: the API lists, shows and deletes with this module alone.

/** The pointer of a published fine-tuned model; FinetunedModelNotFoundError when there is none. */
export async function readFinetunedPointer(store: ObjectStore, modelId: string): Promise<FinetunedPointer> {
  const pointer = await readJson<FinetunedPointer>(store, finetunedPointerKey(modelId));
  if (!pointer) throw new FinetunedModelNotFoundError(modelId);
  return pointer;
}

/** A file of a published model, checked against the digest in its pointer. */
export async function readFinetunedFile(store: ObjectStore, pointer: FinetunedPointer, file: string): Promise<Buffer> {
  const { modelId } = pointer;
  let body: Buffer;
  try {
    body = await store.get(finetunedKey(modelId, file));
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') throw new CorruptFinetunedModelError(modelId, `${file} is missing`, { cause: error });
    throw error;
  }
  const expected = pointer.files[file];
  if (expected && sha256(body) !== expected.sha256) throw new CorruptFinetunedModelError(modelId, `${file} does not match the digest it was published with`);
  return body;
}

/** config.json and metrics.json of a published model. */
export async function getFinetuned(store: ObjectStore, modelId: string): Promise<{ config: FinetunedConfig; metrics: FinetunedMetricsFile; pointer: FinetunedPointer }> {
  const pointer = await readFinetunedPointer(store, modelId);
  const [config, metrics] = await Promise.all([
    readFinetunedJson<FinetunedConfig>(store, pointer, FINETUNED_FILES.config),
    readFinetunedJson<FinetunedMetricsFile>(store, pointer, FINETUNED_FILES.metrics),
  ]);
  return { config, metrics, pointer };
}

/** A JSON file of a published model (config.json, metrics.json), checked against its digest. */
export async function readFinetunedJson<T>(store: ObjectStore, pointer: FinetunedPointer, file: string): Promise<T> {
  return JSON.parse((await readFinetunedFile(store, pointer, file)).toString('utf8')) as T;
}

/** Every published fine-tuned model, newest first; folders without a pointer (a publish in progress or killed) are left out. */
export async function listFinetuned(store: ObjectStore): Promise<FinetunedSummary[]> {
  const ids: string[] = [];
  for await (const info of store.listAll(FINETUNED_PREFIX)) {
    const rest = info.key.slice(FINETUNED_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash > 0 && rest.slice(slash + 1) === FINETUNED_POINTER) ids.push(rest.slice(0, slash));
  }
  const pointers = await mapLimit(ids, 8, (id) => readJson<FinetunedPointer>(store, finetunedPointerKey(id)));
  return pointers
    .filter((p): p is FinetunedPointer => p !== undefined)
    .map((p) => p.summary)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.modelId.localeCompare(b.modelId)));
}

/**
 * Unpublishes a fine-tuned model (the pointer first, so readers stop seeing it at once), then removes its
 * files. FinetunedModelNotFoundError when it is not published.
 */
export async function deleteFinetuned(store: ObjectStore, modelId: string): Promise<void> {
  await readFinetunedPointer(store, modelId);
  await store.delete(finetunedPointerKey(modelId));
  const keys: string[] = [];
  for await (const info of store.listAll(finetunedKey(modelId, ''))) keys.push(info.key);
  await mapLimit(keys, 8, (key) => store.delete(key));
}

/**
 * Throws ModelIdTakenError when `modelId` belongs to a published head (GET /models/{id} would show the head)
 * or to a fine-tuned model that another job published: publishing would replace it.
 */
export async function assertModelIdFree(store: ObjectStore, modelId: string, jobId?: string): Promise<void> {
  if (await store.exists(headPointerKey(modelId))) throw new ModelIdTakenError(modelId, 'head');
  const pointer = await readJson<FinetunedPointer>(store, finetunedPointerKey(modelId));
  if (pointer && pointer.summary.jobId !== jobId) throw new ModelIdTakenError(modelId, 'fine-tuned model');
}
