import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readCacheEntry, tempPathFor, weightsCacheDir, weightsRoot, writeCacheEntry, type CachedWeights } from './cache.js';
import { DownloadFailure, downloadToFile, type DownloadOptions } from './download.js';
import { WeightsIntegrityError, WeightsUnavailableError } from './errors.js';
import { fitWeights } from './fit.js';
import { readKerasH5 } from './kerasH5.js';
import type { OfficialWeightsFile } from './registry.js';
import { zooTarget, type WeightsTarget } from './target.js';
import { variantOf } from './types.js';

export interface PullOptions extends DownloadOptions {
  /** With the classifier (the 'top' file) or without it. @default true */
  includeTop?: boolean;
  /**
   * A mirror holding the official files flat (`<baseUrl>/<fileName>`), e.g. a bucket in a closed network.
   * @default $HEADSTART_WEIGHTS_URL, else Keras' own URL
   */
  baseUrl?: string;
  /** The headstart home (cache root). @default $HEADSTART_HOME, else ~/.cache/headstart */
  home?: string;
}

/**
 * The official Keras weights of a zoo model, like Keras `weights='imagenet'`: from the cache when
 * there, else downloaded (streamed to a temp file), md5-verified against Keras' `file_hash`, checked
 * against the zoo builder, converted and cached. Without network it fails fast with a
 * WeightsUnavailableError that says which file to fetch from where and how to import it.
 */
export async function pullWeights(modelId: string, options: PullOptions = {}): Promise<CachedWeights> {
  return pullWeightsFor(zooTarget(modelId), options);
}

/** pullWeights for any target (the zoo's, or a test's small model). */
export async function pullWeightsFor(target: WeightsTarget, options: PullOptions = {}): Promise<CachedWeights> {
  const includeTop = options.includeTop ?? true;
  const variant = variantOf(includeTop);
  const cached = await readCacheEntry(target.id, variant, options.home);
  if (cached) return cached;
  const file = target.files[variant];
  const url = sourceUrl(file, options.baseUrl ?? process.env.HEADSTART_WEIGHTS_URL);
  const downloads = join(weightsRoot(options.home), '.downloads');
  await mkdir(downloads, { recursive: true });
  const temp = tempPathFor(join(downloads, file.fileName));
  try {
    const download = await downloadOrExplain(target, file, url, temp, options);
    if (file.md5 !== null && download.md5 !== file.md5) {
      throw new WeightsIntegrityError(
        `Downloaded ${file.fileName} from ${url} has md5 ${download.md5}, expected ${file.md5} (Keras' file_hash): the file is damaged or not the official one. Nothing was cached.`,
      );
    }
    const { weights } = fitWeights(target, await readKerasH5(temp), includeTop);
    return await writeCacheEntry(target.id, variant, weights, { fileName: file.fileName, url, md5: download.md5, sha256: download.sha256 }, options.home);
  } finally {
    await rm(temp, { force: true });
  }
}

function sourceUrl(file: OfficialWeightsFile, baseUrl: string | undefined): string {
  return baseUrl ? `${baseUrl.replace(/\/+$/, '')}/${file.fileName}` : file.url;
}

async function downloadOrExplain(target: WeightsTarget, file: OfficialWeightsFile, url: string, temp: string, options: PullOptions) {
  try {
    return await downloadToFile(url, temp, options);
  } catch (error) {
    if (!(error instanceof DownloadFailure)) throw error;
    const variant = variantOf(options.includeTop ?? true);
    throw new WeightsUnavailableError(
      `Cannot download ${file.fileName} from ${url}: ${error.message}.\n` +
        `Fetch that file where the network allows, place it on this machine, then run:\n` +
        `  headstart weights import <path to ${file.fileName}> --model ${target.id}\n` +
        `Converted weights are cached in ${weightsCacheDir(target.id, variant, options.home)} (set HEADSTART_HOME to move the cache).`,
      { cause: error },
    );
  }
}
