import { mapLimit } from '../util/concurrency.js';
import { sha256Hex } from '../util/hash.js';
import type { ObjectStore } from '../store/index.js';
import { ModelIdTakenError } from './errors.js';
import { MODEL_KINDS, type ModelKind } from './kinds.js';
import { modelFileKey, modelIdOfPointer, modelPointerKey, modelPrefix } from './keys.js';
import type { FileDigest, PublishedPointer, SummaryBase } from './pointer.js';
import { readJson } from '../util/json.js';

// The registry's rules for every kind of model. No model code here: the API lists, shows and deletes with it alone.

/** One file of a published model: its name in the model's folder, its bytes, its content type. */
export type PublishedFile = readonly [name: string, body: Buffer, contentType: string];

export function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 2));
}

/**
 * Publishes a model under `models/<kind>/<id>/`: every file first, the pointer (with each file's size and
 * digest) last. Readers only see what has a pointer, so a process killed between two writes leaves files
 * nobody lists rather than half a model. On an error the written files are removed (best effort: a killed
 * process cannot, and its leftovers stay invisible).
 */
export async function publishModel<S extends SummaryBase>(
  store: ObjectStore,
  kind: ModelKind,
  id: string,
  files: readonly PublishedFile[],
  summary: S,
): Promise<PublishedPointer<S>> {
  const written: string[] = [];
  try {
    for (const [name, body, contentType] of files) {
      await store.put(modelFileKey(kind, id, name), body, { contentType });
      written.push(modelFileKey(kind, id, name));
    }
    const digests: Record<string, FileDigest> = Object.fromEntries(files.map(([name, body]) => [name, { bytes: body.length, sha256: sha256Hex(body) }]));
    const pointer: PublishedPointer<S> = { kind: kind.name, id, publishedAt: new Date().toISOString(), summary, files: digests };
    await store.put(modelPointerKey(kind, id), jsonBody(pointer), { contentType: 'application/json' });
    return pointer;
  } catch (error) {
    await Promise.allSettled(written.map((key) => store.delete(key)));
    throw error;
  }
}

/** The pointer of a published model; the kind's not-found error when there is none. */
export async function readModelPointer<S extends SummaryBase>(store: ObjectStore, kind: ModelKind, id: string): Promise<PublishedPointer<S>> {
  const pointer = await readJson<PublishedPointer<S>>(store, modelPointerKey(kind, id));
  if (!pointer) throw kind.notFound(id);
  return { ...pointer, kind: kind.name, id };
}

/**
 * A file of a published model, checked against the digest in its pointer. Its absence or other bytes mean
 * damage (the kind's corrupt error), since the pointer is written after every file.
 */
export async function readModelFile(store: ObjectStore, kind: ModelKind, pointer: PublishedPointer, file: string): Promise<Buffer> {
  let body: Buffer;
  try {
    body = await store.get(modelFileKey(kind, pointer.id, file));
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') throw kind.corrupt(pointer.id, `${file} is missing`, { cause: error });
    throw error;
  }
  const expected = pointer.files[file];
  if (expected && sha256Hex(body) !== expected.sha256) throw kind.corrupt(pointer.id, `${file} does not match the digest it was published with`);
  return body;
}

/** A JSON file of a published model, checked against its digest. */
export async function readModelJson<T>(store: ObjectStore, kind: ModelKind, pointer: PublishedPointer, file: string): Promise<T> {
  const body = await readModelFile(store, kind, pointer, file);
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (error) {
    throw kind.corrupt(pointer.id, `${file} is not JSON`, { cause: error });
  }
}

/** Every published model of a kind, newest first. Folders without a pointer (a publish in progress or killed) are left out. */
export async function listModels<S extends SummaryBase>(store: ObjectStore, kind: ModelKind, idOf: (summary: S) => string): Promise<S[]> {
  const ids: string[] = [];
  for await (const info of store.listAll(kind.prefix)) {
    const id = modelIdOfPointer(kind, info.key);
    if (id) ids.push(id);
  }
  // A model deleted between the listing and the read is simply not listed.
  const pointers = await mapLimit(ids, 8, (id) => readJson<PublishedPointer<S>>(store, modelPointerKey(kind, id)));
  return pointers
    .filter((p): p is PublishedPointer<S> => p !== undefined)
    .map((p) => p.summary)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : idOf(a).localeCompare(idOf(b))));
}

/**
 * Unpublishes a model (the pointer goes first, so readers stop seeing it at once), then removes its files.
 * The kind's not-found error when it is not published.
 */
export async function deleteModel(store: ObjectStore, kind: ModelKind, id: string): Promise<void> {
  await readModelPointer(store, kind, id);
  await store.delete(modelPointerKey(kind, id));
  const keys: string[] = [];
  for await (const info of store.listAll(modelPrefix(kind, id))) keys.push(info.key);
  await mapLimit(keys, 8, (key) => store.delete(key));
}

/**
 * Throws ModelIdTakenError when a published model of any kind has this id (GET /models/{id} would show
 * it, and publishing would replace it) — unless it is the model the job `jobId` published itself (a
 * resumed or redelivered job may publish under its id again).
 */
export async function assertModelIdFree(store: ObjectStore, id: string, jobId?: string): Promise<void> {
  for (const kind of MODEL_KINDS) {
    const pointer = await readJson<PublishedPointer>(store, modelPointerKey(kind, id));
    if (pointer && (jobId === undefined || pointer.summary?.jobId !== jobId)) throw new ModelIdTakenError(id, kind.noun);
  }
}
