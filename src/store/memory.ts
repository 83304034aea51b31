import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { bodyToBuffer } from './body.js';
import { ObjectNotFoundError } from './errors.js';
import { assertValidKey, compareKeys, normalizeMetadata, resolveMaxKeys } from './keys.js';
import { decodeCursor, encodeCursor, paginate, type ListCursor } from './list.js';
import type { ListOptions, ListResult, ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './types.js';

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  contentType: string;
  metadata: Record<string, string>;
}

/** S3's content type for objects stored without one. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/**
 * An ObjectStore in process memory with S3's semantics (UTF-8 key order, common prefixes counted
 * against maxKeys, lower-cased metadata, MD5 etags): for unit tests and one-off tools.
 */
export class MemoryStore implements ObjectStore {
  readonly bucket: string;
  private readonly objects = new Map<string, StoredObject>();

  constructor(bucket = 'memory') {
    this.bucket = bucket;
  }

  async get(key: string): Promise<Buffer> {
    return Buffer.from(this.require(key, 'GetObject').body);
  }

  async getStream(key: string): Promise<Readable> {
    return Readable.from([Buffer.from(this.require(key, 'GetObject').body)]);
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<void> {
    assertValidKey(key);
    const bytes = await bodyToBuffer(body);
    this.objects.set(key, {
      body: bytes,
      etag: createHash('md5').update(bytes).digest('hex'),
      // S3 keeps Last-Modified to the second.
      lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
      contentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: normalizeMetadata(options.metadata),
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    const stored = this.objects.get(key);
    if (!stored) return undefined;
    return { ...this.info(key, stored), metadata: { ...stored.metadata }, contentType: stored.contentType };
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const maxKeys = resolveMaxKeys(options.maxKeys);
    const cursor = options.continuationToken === undefined ? undefined : decodeCursor(options.continuationToken);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && !isBefore(k, cursor)).sort(compareKeys);
    const result: ListResult = { objects: [], commonPrefixes: [] };
    let last: ListCursor | undefined;
    for (const key of keys) {
      const rolledUp = options.delimiter ? commonPrefix(key, prefix, options.delimiter) : undefined;
      if (rolledUp !== undefined && rolledUp === result.commonPrefixes.at(-1)) continue;
      if (result.objects.length + result.commonPrefixes.length === maxKeys) {
        result.nextToken = encodeCursor(last!);
        break;
      }
      if (rolledUp !== undefined) {
        result.commonPrefixes.push(rolledUp);
        last = { after: rolledUp, isPrefix: true };
      } else {
        result.objects.push(this.info(key, this.objects.get(key)!));
        last = { after: key, isPrefix: false };
      }
    }
    return result;
  }

  listAll(prefix: string): AsyncIterable<ObjectInfo> {
    return paginate((p, o) => this.list(p, o), prefix);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.objects.delete(key);
  }

  private require(key: string, operation: string): StoredObject {
    assertValidKey(key);
    const stored = this.objects.get(key);
    if (!stored) throw new ObjectNotFoundError(this.bucket, key, { operation });
    return stored;
  }

  private info(key: string, stored: StoredObject): ObjectInfo {
    return { key, size: stored.body.length, etag: stored.etag, lastModified: stored.lastModified };
  }
}

/** True when the key was already listed on an earlier page. */
function isBefore(key: string, cursor: ListCursor | undefined): boolean {
  if (!cursor) return false;
  return compareKeys(key, cursor.after) <= 0 || (cursor.isPrefix && key.startsWith(cursor.after));
}

/** The common prefix a key rolls up to, or undefined when the delimiter does not occur after the prefix. */
function commonPrefix(key: string, prefix: string, delimiter: string): string | undefined {
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}
