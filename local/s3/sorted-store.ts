/**
 * s3rver's filesystem store with a listing that matches S3.
 *
 * s3rver 3.7.1 lists keys in directory-walk order ('cat/1.jpg' before 'cat-2/1.jpg', 'x-1' before
 * 'x') and pages by comparing keys to the last one returned, so a paginated listing silently skips
 * keys; with a delimiter it never descends below the first level, so a common prefix whose keys all
 * sit two levels down ('images/<dataset>/<label>/<file>' listed at 'images/') is missing. This store
 * lists keys in UTF-8 byte order, rolls up common prefixes at any depth, counts them against maxKeys
 * and resumes after a common prefix, as S3 does.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareKeys } from '../../src/store/keys.js';
import {
  FilesystemStore,
  S3Object,
  type ListObjectsOptions,
  type ListObjectsResult,
  type S3rverObject,
} from './s3rver.js';

/** How s3rver names the file that holds an object's bytes. */
const OBJECT_SUFFIX = '._S3rver_object';

export class SortedFilesystemStore extends FilesystemStore {
  override async listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsResult> {
    const { prefix = '', delimiter = '', startAfter = '', maxKeys = Infinity } = options;
    const keys = (await this.keysUnder(bucket, prefix)).sort(compareKeys);
    const page = selectPage(keys, { prefix, delimiter, startAfter, maxKeys });
    const objects = await Promise.all(page.keys.map((key) => this.objectOrUndefined(bucket, key)));
    return {
      objects: objects.filter((o): o is S3rverObject => o !== undefined),
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
    };
  }

  /** Every stored key under the prefix, reading directories only (no metadata). */
  private async keysUnder(bucket: string, prefix: string): Promise<string[]> {
    const root = this.getBucketPath(bucket);
    const keys: string[] = [];
    const walk = async (dir: string, relative: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const rel = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (`${rel}/`.startsWith(prefix) || prefix.startsWith(`${rel}/`)) await walk(path.join(dir, entry.name), rel);
        } else if (entry.name.endsWith(OBJECT_SUFFIX) && entry.name !== OBJECT_SUFFIX) {
          const key = FilesystemStore.decodeKeyPath(rel.slice(0, -OBJECT_SUFFIX.length));
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    await walk(root, '');
    return keys;
  }

  /** An object deleted between the walk and this read is left out, as s3rver does. */
  private async objectOrUndefined(bucket: string, key: string): Promise<S3rverObject | undefined> {
    try {
      return new S3Object(bucket, key, null, await this.getMetadata(bucket, key));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

interface PageRequest {
  prefix: string;
  delimiter: string;
  startAfter: string;
  maxKeys: number;
}

/** Picks one page from sorted keys: objects and common prefixes, at most maxKeys of both together. */
export function selectPage(sortedKeys: string[], request: PageRequest): { keys: string[]; commonPrefixes: string[]; isTruncated: boolean } {
  const { prefix, delimiter, startAfter, maxKeys } = request;
  const rollUp = (key: string): string | undefined => {
    if (!delimiter) return undefined;
    const at = key.indexOf(delimiter, prefix.length);
    return at === -1 ? undefined : key.slice(0, at + delimiter.length);
  };
  // A page that ended on a common prefix resumes after every key under it.
  const skipUnder = startAfter && rollUp(startAfter) === startAfter ? startAfter : undefined;
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  for (const key of sortedKeys) {
    if (compareKeys(key, startAfter) <= 0 || (skipUnder && key.startsWith(skipUnder))) continue;
    const common = rollUp(key);
    if (common !== undefined && common === commonPrefixes.at(-1)) continue;
    if (keys.length + commonPrefixes.length >= maxKeys) return { keys, commonPrefixes, isTruncated: true };
    if (common !== undefined) commonPrefixes.push(common);
    else keys.push(key);
  }
  return { keys, commonPrefixes, isTruncated: false };
}
