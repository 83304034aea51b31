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
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compareKeys } from '../../src/store/keys.js';
import {
  FilesystemStore,
  S3Object,
  type ListObjectsOptions,
  type ListObjectsResult,
  type S3rverObject,
} from './s3rver.js';
import { checkBucket, checkKey, checkUpload } from './names.js';

/** How s3rver names the file that holds an object's bytes. */
const OBJECT_SUFFIX = '._S3rver_object';

/** A sibling name no key maps to (s3rver's own files end in `._S3rver_<part>`), so listings never show it. */
const temporaryPath = (target: string): string => `${target}.${randomUUID()}.tmp`;

/** Writes a small file whole or not at all: a temporary sibling renamed over the target. */
async function writeAtomically(target: string, body: string): Promise<void> {
  const tmp = temporaryPath(target);
  try {
    await writeFile(tmp, body);
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Streams `content` into `file`, counting its bytes and their MD5 (the ETag); rejects when either side fails. */
async function writeCounted(content: NodeJS.ReadableStream, file: string): Promise<{ size: number; md5: string }> {
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(content, count, createWriteStream(file));
  return { size, md5: md5.digest('hex') };
}

/** What s3rver keeps of a PUT's headers: its system metadata and the user's x-amz-meta-*. */
function metadataJson(metadata: Record<string, string>): string {
  const kept = Object.fromEntries(Object.entries(metadata).filter(([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')));
  return JSON.stringify(kept, null, 2);
}

export class SortedFilesystemStore extends FilesystemStore {
  /** Per object, the tail of its chain of critical sections: a version's files change together under it. */
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * Bucket-level reads s3rver repeats on every request, kept until this store changes them: the bucket's
   * folder (a stat, for bucketExists) and its CORS and website configurations (two file reads and an XML
   * parse, for the cors and website middlewares). This process is the only writer of its data directory.
   */
  private readonly bucketReads = new Map<string, Promise<unknown>>();
  /** Object folders known to exist: a PUT skips its mkdir. Forgotten on every delete (s3rver removes emptied folders). */
  private readonly folders = new Set<string>();

  /** Every path s3rver builds for a bucket or an object comes through these two: no name leaves its bucket's folder. */
  override getBucketPath(bucket: string): string {
    checkBucket(bucket);
    return super.getBucketPath(bucket);
  }

  override getResourcePath(bucket: string, key: string | undefined, resource: string): string {
    checkBucket(bucket);
    if (key !== undefined && key !== '') checkKey(key);
    return super.getResourcePath(bucket, key, resource);
  }

  override getBucket(bucket: string): Promise<unknown> {
    return this.remembered(`bucket\0${bucket}`, () => super.getBucket(bucket));
  }

  override async putBucket(bucket: string): Promise<unknown> {
    return this.forgettingBucket(bucket, () => super.putBucket(bucket));
  }

  override async deleteBucket(bucket: string): Promise<void> {
    return this.forgettingBucket(bucket, () => super.deleteBucket(bucket));
  }

  override getSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<unknown> {
    if (key !== undefined) return super.getSubresource(bucket, key, resourceType);
    return this.remembered(`${resourceType}\0${bucket}`, () => super.getSubresource(bucket, key, resourceType));
  }

  override async putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<void> {
    return this.forgettingBucket(bucket, () => super.putSubresource(bucket, key, resource));
  }

  override async deleteSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<void> {
    return this.forgettingBucket(bucket, () => super.deleteSubresource(bucket, key, resourceType));
  }

  override async deleteObject(bucket: string, key: string): Promise<void> {
    try {
      await super.deleteObject(bucket, key);
    } finally {
      this.folders.clear();
    }
  }

  /** A bucket-level read, shared until the bucket changes; a failed read is not kept. */
  private remembered<T>(id: string, read: () => Promise<T>): Promise<T> {
    let value = this.bucketReads.get(id) as Promise<T> | undefined;
    if (!value) {
      value = read();
      this.bucketReads.set(id, value);
      value.then(
        (result) => result === null && id.startsWith('bucket\0') && this.bucketReads.delete(id),
        () => this.bucketReads.delete(id),
      );
    }
    return value;
  }

  /** A change to a bucket or its configuration: what was read of it is read again, after the change too. */
  private async forgettingBucket<T>(bucket: string, change: () => Promise<T>): Promise<T> {
    const forget = () => {
      for (const id of this.bucketReads.keys()) if (id.endsWith(`\0${bucket}`)) this.bucketReads.delete(id);
      this.folders.clear();
    };
    forget();
    try {
      return await change();
    } finally {
      forget();
    }
  }

  override async initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void> {
    checkKey(key);
    checkUpload(uploadId);
    return super.initiateUpload(bucket, key, uploadId, metadata);
  }

  /**
   * s3rver's putPart, through a pipeline: its own never settles when the request stream fails (a client
   * hanging up, a body that does not match its declared SHA-256), and it wrote the part's final file as
   * bytes arrived. The part is renamed in whole, after its checksum.
   */
  override async putPart(bucket: string, uploadId: string, partNumber: string | number, content: NodeJS.ReadableStream): Promise<{ size: number; md5: string }> {
    checkUpload(uploadId, [partNumber]);
    const partPath = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    await mkdir(path.dirname(partPath), { recursive: true });
    const tmp = temporaryPath(partPath);
    try {
      const written = await writeCounted(content, tmp);
      await writeAtomically(`${partPath}.md5`, written.md5);
      await rename(tmp, partPath);
      return written;
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  override async putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number | string }>): Promise<{ size: number; md5: string }> {
    checkUpload(uploadId, parts.map((part) => part.number));
    return super.putObjectMultipart(bucket, uploadId, parts);
  }

  /**
   * s3rver writes an object's bytes into its final file as they arrive, answers the PUT before a Buffer
   * body is even flushed, and reads size, checksum and bytes in three steps: a GET meanwhile reads a torn
   * object (seen: half a job record while a trainer rewrote it). S3 replaces objects atomically; so does
   * this: the bytes go to a temporary file first, then bytes, checksum and metadata are swapped in under
   * the object's lock, under which reads take their metadata and open their file (an open file keeps
   * its version's bytes).
   */
  async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    const folder = path.dirname(objectPath);
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
    }
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : (object.content as NodeJS.ReadableStream);
    const tmp = temporaryPath(objectPath);
    const staged: Array<[tmp: string, target: string]> = [];
    try {
      const { size, md5: digest } = await writeCounted(content, tmp);
      // Checksum and metadata are written beside the bytes before anything is renamed: a write that fails
      // (a full disk) leaves no object, or the old one whole. The bytes are renamed last: an object is
      // visible once its file exists, and by then its metadata is already in place.
      for (const [resource, body] of [['object.md5', digest], ['metadata.json', metadataJson(object.metadata)]] as const) {
        const target = this.getResourcePath(object.bucket, object.key, resource);
        staged.push([temporaryPath(target), target]);
        await this.stageFile(staged.at(-1)![0], body);
      }
      staged.push([tmp, objectPath]);
      await this.locked(object.bucket, object.key, async () => {
        for (const [from, to] of staged) await rename(from, to);
      });
      return { size, md5: digest };
    } catch (error) {
      // A folder removed behind this store's back: the client's retry creates it again.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.folders.delete(folder);
      // Renamed away on success: only a failed write leaves temporary files behind.
      await Promise.all([tmp, ...staged.map(([from]) => from)].map((file) => rm(file, { force: true })));
      throw error;
    }
  }

  /** Writes one temporary file of a PUT (a seam for the failure tests). */
  protected async stageFile(file: string, body: string): Promise<void> {
    await writeFile(file, body);
  }

  async putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void> {
    if (md5) await writeAtomically(this.getResourcePath(bucket, key, 'object.md5'), md5);
    await writeAtomically(this.getResourcePath(bucket, key, 'metadata.json'), metadataJson(metadata));
  }

  override getMetadata(bucket: string, key: string): Promise<Record<string, string>> {
    return this.locked(bucket, key, () => super.getMetadata(bucket, key));
  }

  /** s3rver's getObject, with the metadata read and the file opened under the object's lock. */
  async getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3rverObject | null> {
    try {
      return await this.locked(bucket, key, async () => {
        const metadata = await super.getMetadata(bucket, key);
        const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
        const range = { start: options?.start ?? 0, end: Math.min(options?.end ?? Infinity, lastByte) };
        const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
        const object = new S3Object(bucket, key, null, metadata) as S3rverObject & { range?: typeof range };
        if (ranged) object.range = range;
        // An unsatisfiable range gets no body, as in s3rver's own getObject.
        if (range.start < 0 || Math.min(range.end, lastByte) < range.start) return object;
        object.content = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
          const stream = createReadStream(this.getResourcePath(bucket, key, 'object'), range)
            .on('error', reject)
            .on('open', () => resolve(stream));
        });
        return object;
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
  }

  private locked<T>(bucket: string, key: string, section: () => Promise<T>): Promise<T> {
    const id = `${bucket}/${key}`;
    const run = (this.locks.get(id) ?? Promise.resolve()).then(section, section);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }

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
