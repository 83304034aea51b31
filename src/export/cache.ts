import { EXPORTER_VERSION } from '../engine/onnx/export.js';
import { HeadstartError } from '../errors.js';
import { exportKey } from '../layout.js';
import { FINETUNED, HEADS, modelPointerKey, type ModelKind } from '../registry/index.js';
import { ObjectNotFoundError, type ObjectStore } from '../store/index.js';
import { sha256Hex } from '../util/hash.js';
import { syncWeightsFromStore } from '../weights/bucket.js';
import { readCacheEntry } from '../weights/index.js';
import { MODEL_IDS } from '../zoo/index.js';
import { buildBundle } from './bundle.js';
import { ExportChangedError } from './errors.js';
import type { ExportFormat } from './formats.js';
import { openExportSource, type SourceOptions } from './source.js';

/**
 * Bumped whenever a bundle's contents change for the same model (README, parity.json, zip layout), so that
 * cached bundles under exports/ are rebuilt. The ONNX exporter has its own (EXPORTER_VERSION), also in the key.
 */
export const BUNDLE_VERSION = 1;

/** What a bundle of one id is built from: its kind and the bytes that decide it (a registry pointer's digest, or the weights digest). */
export interface ExportIdentity {
  kind: 'classifier' | 'head' | 'finetuned';
  basis: string;
}

/** A bundle stored under exports/. */
export interface StoredExport {
  key: string;
  fileName: string;
  bytes: number;
  /** True when this call found it there; false when it built and wrote it. */
  cached: boolean;
}

/**
 * What the bundle of `id` would be built from, read without loading a model (a few small reads), in the order
 * openExportSource resolves an id: a published head's pointer, a fine-tuned model's pointer (each sha256 of the
 * pointer's bytes, which hold every file's digest and publishedAt), else a zoo classifier's weights digest
 * (undefined when no weights are here or in the bucket yet: the build says why).
 */
export async function exportIdentity(store: ObjectStore | undefined, id: string, options: SourceOptions = {}): Promise<ExportIdentity | undefined> {
  if (store) {
    for (const [kind, name] of [[HEADS, 'head'], [FINETUNED, 'finetuned']] as Array<[ModelKind, ExportIdentity['kind']]>) {
      const pointer = await readPointerBytes(store, kind, id);
      if (pointer) return { kind: name, basis: sha256Hex(pointer) };
    }
  }
  if (!(MODEL_IDS as readonly string[]).includes(id)) return undefined;
  if (store && options.home) await syncWeightsFromStore(store, id, 'top', options.home);
  const entry = await readCacheEntry(id, 'top', options.home);
  return entry ? { kind: 'classifier', basis: entry.index.digest } : undefined;
}

/** `exports/<id>/<format>/<version>.zip`, the version a digest of the identity, the format and both exporter versions. */
export function exportKeyOf(id: string, format: ExportFormat, identity: ExportIdentity): string {
  const version = sha256Hex(JSON.stringify({ bundle: BUNDLE_VERSION, exporter: EXPORTER_VERSION, format, ...identity })).slice(0, 16);
  return exportKey(id, format, version);
}

/**
 * The bundle of `id` in `format` under exports/: reused when it is there, else built (models loaded, parity checked)
 * and written with one PUT of the finished zip, so the key never holds part of a bundle and a failed build writes
 * nothing. Two requests racing on a missing key both build and write the same bundle; the last PUT wins, whole.
 * A model republished under the same id while building is not cached under the new pointer's key (the pointer is
 * read again before writing).
 * @throws ExportModelNotFoundError, ExportBaseMismatchError, WeightsUnavailableError, ExportParityError
 */
export async function storedExport(store: ObjectStore, id: string, format: ExportFormat, options: SourceOptions = {}): Promise<StoredExport> {
  const fileName = `${id}-${format}.zip`;
  const before = await exportIdentity(store, id, options);
  if (before) {
    const key = exportKeyOf(id, format, before);
    const found = await store.head(key);
    if (found) return { key, fileName, bytes: found.size, cached: true };
  }
  const source = await openExportSource(store, id, options);
  let zip: Uint8Array;
  try {
    zip = (await buildBundle(source, format)).zip;
  } finally {
    source.dispose();
  }
  // A zoo classifier whose weights were first fetched by the build: its identity is the weights it was built with.
  const after = (await exportIdentity(store, id, options)) ?? { kind: 'classifier', basis: source.weightsDigest };
  const key = exportKeyOf(id, format, after);
  if (before && exportKeyOf(id, format, before) !== key) {
    throw new ExportChangedError(id);
  }
  await store.put(key, Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength), { contentType: 'application/zip' });
  return { key, fileName, bytes: zip.byteLength, cached: false };
}

async function readPointerBytes(store: ObjectStore, kind: ModelKind, id: string): Promise<Buffer | undefined> {
  let key: string;
  try {
    key = modelPointerKey(kind, id);
  } catch (error) {
    // An id no model of this kind can have (openExportSource goes on to the next kind the same way).
    if (error instanceof HeadstartError && error.code === 'InvalidArgument') return undefined;
    throw error;
  }
  try {
    return await store.get(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}
