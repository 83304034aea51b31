import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LIBRARY_VERSION } from '../version.js';
import { WeightsFormatError } from './errors.js';
import { countParams, type LayerWeights, type WeightsVariant } from './types.js';
import { decodeWeightsFile, encodeWeightsFile, WEIGHTS_FILE_FORMAT, WEIGHTS_FILE_VERSION } from './weightsFile.js';

/**
 * The local weights cache:
 *   $HEADSTART_HOME/weights/<modelId>/<top|notop>/weights.bin   converted weights (see weightsFile.ts)
 *   $HEADSTART_HOME/weights/<modelId>/<top|notop>/index.json    WeightsIndex, written last
 * An entry exists when index.json does. Both files are written to a temp name and renamed, and the old
 * index is removed before a new weights.bin lands, so a killed conversion never leaves a half entry.
 */

/** Where the source of a cache entry came from. */
export interface WeightsSourceInfo {
  /** The original file (or folder) name, e.g. 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'. */
  fileName: string;
  /** Download URL, for pulled weights. */
  url?: string;
  /** Local path, for imported weights. */
  path?: string;
  /** md5 of the downloaded file, verified against the official hash when Keras publishes one. */
  md5?: string;
  /** sha256 of the downloaded file. */
  sha256?: string;
}

export interface WeightsIndex {
  format: string;
  model: string;
  variant: WeightsVariant;
  /** First 16 hex chars of the sha256 of weights.bin: the namespace of cached features. */
  digest: string;
  bytes: number;
  params: number;
  layers: number;
  source: WeightsSourceInfo;
  created: string;
  libraryVersion: string;
}

export interface CachedWeights {
  modelId: string;
  variant: WeightsVariant;
  dir: string;
  weightsPath: string;
  index: WeightsIndex;
}

/** `home`, else $HEADSTART_HOME, else ~/.cache/headstart. */
export function headstartHome(home?: string): string {
  return home || process.env.HEADSTART_HOME || join(homedir(), '.cache', 'headstart');
}

export function weightsRoot(home?: string): string {
  return join(headstartHome(home), 'weights');
}

export function weightsCacheDir(modelId: string, variant: WeightsVariant, home?: string): string {
  return join(weightsRoot(home), modelId, variant);
}

/** The cache entry, or undefined when there is none (or only a leftover of an interrupted write). */
export async function readCacheEntry(modelId: string, variant: WeightsVariant, home?: string): Promise<CachedWeights | undefined> {
  const dir = weightsCacheDir(modelId, variant, home);
  let index: WeightsIndex;
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as WeightsIndex;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WeightsFormatError(`Unreadable weights cache index in '${dir}': ${(error as Error).message}`, { cause: error });
  }
  return { modelId, variant, dir, weightsPath: join(dir, 'weights.bin'), index };
}

/** Reads a cache entry's weights. The size is checked against the index; the digest is not recomputed. */
export async function loadCachedWeights(entry: CachedWeights): Promise<LayerWeights> {
  const bytes = await readFile(entry.weightsPath);
  if (bytes.byteLength !== entry.index.bytes) {
    throw new WeightsFormatError(`Cached weights '${entry.weightsPath}' have ${bytes.byteLength} bytes, the index says ${entry.index.bytes}: delete '${entry.dir}' and pull or import again.`);
  }
  return decodeWeightsFile(bytes, entry.weightsPath);
}

/** Writes weights as the cache entry of modelId/variant, replacing any previous one atomically. */
export async function writeCacheEntry(
  modelId: string,
  variant: WeightsVariant,
  weights: LayerWeights,
  source: WeightsSourceInfo,
  home?: string,
): Promise<CachedWeights> {
  const dir = weightsCacheDir(modelId, variant, home);
  await mkdir(dir, { recursive: true });
  await rm(join(dir, 'index.json'), { force: true });
  const { digest, bytes } = await writeAtomically(join(dir, 'weights.bin'), encodeWeightsFile(weights));
  const index: WeightsIndex = {
    format: `${WEIGHTS_FILE_FORMAT}/${WEIGHTS_FILE_VERSION}`,
    model: modelId,
    variant,
    digest,
    bytes,
    params: countParams(weights),
    layers: weights.length,
    source,
    created: new Date().toISOString(),
    libraryVersion: LIBRARY_VERSION,
  };
  await writeAtomically(join(dir, 'index.json'), [Buffer.from(`${JSON.stringify(index, null, 2)}\n`)]);
  return { modelId, variant, dir, weightsPath: join(dir, 'weights.bin'), index };
}

/** Every cache entry under the home, for `headstart models`. */
export async function listCachedWeights(home?: string): Promise<CachedWeights[]> {
  const root = weightsRoot(home);
  const entries: CachedWeights[] = [];
  for (const modelId of await listDirs(root)) {
    for (const variant of ['top', 'notop'] as const) {
      const entry = await readCacheEntry(modelId, variant, home);
      if (entry) entries.push(entry);
    }
  }
  return entries;
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A temp file name beside `path`, unique per process and call. */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Streams chunks to a temp file, fsyncs, renames over `path`; returns the 16-hex sha256 digest and size. */
async function writeAtomically(path: string, chunks: Iterable<Uint8Array>): Promise<{ digest: string; bytes: number }> {
  const temp = tempPathFor(path);
  const hash = createHash('sha256');
  let bytes = 0;
  const file = await open(temp, 'w');
  try {
    for (const chunk of chunks) {
      hash.update(chunk);
      await writeFully(file, chunk);
      bytes += chunk.byteLength;
    }
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  await rename(temp, path);
  return { digest: hash.digest('hex').slice(0, 16), bytes };
}

/** FileHandle.write may write less than asked: loop until the whole chunk is on disk. */
export async function writeFully(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.byteLength; ) {
    const { bytesWritten } = await file.write(chunk, done);
    done += bytesWritten;
  }
}
