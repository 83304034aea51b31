import { createHash } from 'node:crypto';
import { HeadstartError } from '../errors.js';
import type { ObjectStore } from '../store/index.js';
import { mapLimit } from '../util/concurrency.js';
import { buildDatasetIndex, type DatasetIndex } from './dataset.js';
import { decodeSafetensors, encodeSafetensors } from './format/safetensors.js';
import { shardPrefix } from '../layout.js';
import { CorruptFeatureError, forgetBadFeatures, readLinkedFeature } from './links.js';
import type { FeatureNamespace } from './namespace.js';
import { LIBRARY_VERSION } from '../version.js';
import { readJson } from '../util/json.js';

/** Rows per shard object: 8192 × 1024 float32 is 32 MiB, a comfortable single GET. */
const ROWS_PER_SHARD = 8192;

export interface ShardManifest {
  dataset: string;
  namespace: string;
  /** sha256 over the sorted `key sha256` lines of the extracted images: equal fingerprints, equal shards. */
  fingerprint: string;
  rows: number;
  dim: number;
  shards: string[];
  keys: string[];
  labels: string[];
  builtAt: string;
  library: string;
}

/** A dataset's features as one [N, D] matrix with a label per row: what training reads. */
export interface DatasetFeatures {
  features: Float32Array;
  dim: number;
  labels: string[];
  keys: string[];
  manifest: ShardManifest;
  /** True when this call (re)built the shards. */
  rebuilt: boolean;
}

export class NoFeaturesError extends HeadstartError {
  constructor(dataset: string) {
    super('NoFeatures', `Dataset '${dataset}' has no extracted features yet: upload images under images/${dataset}/<label>/ and wait for extraction.`);
  }
}

interface Row {
  key: string;
  label: string;
  sha256: string;
  digest?: string;
}

/**
 * The fingerprint covers each row's feature digest too: a feature extracted again (a corrupt one repaired)
 * changes it, so the shards are rebuilt without the old row.
 */
function fingerprintOf(index: DatasetIndex): { fingerprint: string; rows: Row[] } {
  const rows = index.images
    .filter((i) => i.status === 'extracted' && i.label !== '_unlabelled')
    .map((i) => ({ key: i.key, label: i.label, sha256: i.sha256!, digest: i.digest }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  for (const r of rows) hash.update(`${r.key} ${r.sha256} ${r.digest ?? '-'}\n`);
  return { fingerprint: hash.digest('hex'), rows };
}

function readManifest(store: ObjectStore, prefix: string): Promise<ShardManifest | undefined> {
  return readJson<ShardManifest>(store, `${prefix}manifest.json`);
}

/**
 * Reads a dataset's features through its consolidated shards, rebuilding them first when they are missing
 * or stale (the set of extracted images changed). Shard objects are written before the manifest that names
 * them, and carry the fingerprint in their names, so a reader never sees a half-built set.
 */
export async function loadDatasetFeatures(
  store: ObjectStore,
  ns: FeatureNamespace,
  dataset: string,
  index?: DatasetIndex,
): Promise<DatasetFeatures> {
  const prefix = shardPrefix(ns, dataset);
  const current = index ?? (await buildDatasetIndex(store, ns, dataset));
  return loadShards(store, ns, dataset, prefix, current);
}

/**
 * The dataset's shards as last built, without reading every image's link to check they are current (a
 * dataset index is one GET per image); built first when there are none. For reads that may lag the
 * latest uploads by one rebuild (similarity search), not for training.
 */
export async function loadBuiltDatasetFeatures(store: ObjectStore, ns: FeatureNamespace, dataset: string): Promise<DatasetFeatures> {
  const prefix = shardPrefix(ns, dataset);
  const manifest = await readManifest(store, prefix);
  if (!manifest) return loadDatasetFeatures(store, ns, dataset);
  return { ...(await readShards(store, manifest)), manifest, rebuilt: false };
}

/**
 * The dataset's shards as last built, or undefined when none were: no index, no rebuild. The caller decides
 * which rows are still current (e.g. batch prediction: links not rewritten since `manifest.builtAt`).
 */
export async function readBuiltShards(store: ObjectStore, ns: FeatureNamespace, dataset: string): Promise<DatasetFeatures | undefined> {
  const manifest = await readManifest(store, shardPrefix(ns, dataset));
  return manifest && { ...(await readShards(store, manifest)), manifest, rebuilt: false };
}

async function readShards(store: ObjectStore, manifest: ShardManifest): Promise<Pick<DatasetFeatures, 'features' | 'dim' | 'labels' | 'keys'>> {
  const parts = await mapLimit(manifest.shards, 4, async (key) => decodeSafetensors(await store.get(key)).tensors.features!.data);
  const features = new Float32Array(manifest.rows * manifest.dim);
  let offset = 0;
  for (const part of parts) {
    features.set(part, offset);
    offset += part.length;
  }
  return { features, dim: manifest.dim, labels: manifest.labels, keys: manifest.keys };
}

async function loadShards(store: ObjectStore, ns: FeatureNamespace, dataset: string, prefix: string, current: DatasetIndex): Promise<DatasetFeatures> {
  const { fingerprint, rows } = fingerprintOf(current);
  if (rows.length === 0) throw new NoFeaturesError(dataset);
  let manifest = await readManifest(store, prefix);
  let rebuilt = false;
  if (manifest?.fingerprint !== fingerprint) {
    const previous = manifest;
    manifest = await buildShards(store, ns, dataset, prefix, fingerprint, rows);
    rebuilt = true;
    // Old shards are unreachable once the new manifest is written; a reader mid-load of them may fail and retry.
    const keep = new Set(manifest.shards);
    // Best effort: a leftover shard costs storage (the bucket's lifecycle rule expires it), never correctness.
    await Promise.all((previous?.shards ?? []).filter((k) => !keep.has(k)).map((k) => store.delete(k).catch(() => undefined)));
  }
  return { ...(await readShards(store, manifest)), manifest, rebuilt };
}

async function buildShards(
  store: ObjectStore,
  ns: FeatureNamespace,
  dataset: string,
  prefix: string,
  fingerprint: string,
  rows: Row[],
): Promise<ShardManifest> {
  // Every feature is checked against its link (links.ts): a bad one is never built into a shard.
  const checked = await mapLimit(rows, 16, (row) => readLinkedFeature(store, ns, row));
  const problems = checked.flatMap((c) => (c.ok ? [] : [c.problem]));
  if (problems.length) {
    await forgetBadFeatures(store, ns, problems);
    throw new CorruptFeatureError(problems);
  }
  const vectors = checked.map((c) => (c as Extract<typeof c, { ok: true }>).features);
  const dim = vectors[0]!.length;
  const bad = vectors.findIndex((v) => v.length !== dim);
  if (bad >= 0) {
    throw new HeadstartError('FeatureShapeMismatch', `Feature of ${rows[bad]!.key} has ${vectors[bad]!.length} values, expected ${dim}.`);
  }
  const shards: string[] = [];
  for (let start = 0, n = 0; start < rows.length; start += ROWS_PER_SHARD, n++) {
    const count = Math.min(ROWS_PER_SHARD, rows.length - start);
    const data = new Float32Array(count * dim);
    for (let r = 0; r < count; r++) data.set(vectors[start + r]!, r * dim);
    const key = `${prefix}${fingerprint.slice(0, 16)}-${String(n).padStart(5, '0')}.safetensors`;
    await store.put(key, encodeSafetensors({ features: { dtype: 'F32', shape: [count, dim], data } }, { dataset, fingerprint }));
    shards.push(key);
  }
  const manifest: ShardManifest = {
    dataset,
    namespace: `${ns.model}@${ns.weightsDigest}/${ns.layer}`,
    fingerprint,
    rows: rows.length,
    dim,
    shards,
    keys: rows.map((r) => r.key),
    labels: rows.map((r) => r.label),
    builtAt: new Date().toISOString(),
    library: LIBRARY_VERSION,
  };
  await store.put(`${prefix}manifest.json`, JSON.stringify(manifest), { contentType: 'application/json' });
  return manifest;
}
