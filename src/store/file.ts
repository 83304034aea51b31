import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { bodyToBuffer } from './body.js';
import { ObjectNotFoundError, StorageFullError } from './errors.js';
import { assertValidKey, compareKeys } from './keys.js';
import { MemoryStore } from './memory.js';
import type { ListOptions, ListResult, ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './types.js';
import { sha256Hex } from '../util/hash.js';

/**
 * An ObjectStore over a local folder laid out like the bucket (`<root>/images/…`, `<root>/features/…`):
 * what `headstart extract <dir>` reads and writes. Writes go to a temp file and are renamed into place,
 * so a killed run never leaves half an object. Metadata and content types are not kept (S3-only notions).
 */
export class FileStore implements ObjectStore {
  readonly bucket: string;

  constructor(readonly root: string) {
    this.bucket = root;
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      throw this.notFound(key, error, 'GetObject');
    }
  }

  async getStream(key: string): Promise<Readable> {
    if (!(await this.exists(key))) throw new ObjectNotFoundError(this.bucket, key, { operation: 'GetObject' });
    return createReadStream(this.path(key));
  }

  async put(key: string, body: ObjectBody, _options: PutOptions = {}): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, await bodyToBuffer(body));
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new StorageFullError(`Storage is full: could not write '${key}' to ${target} (${code}); free some space and run again.`, { bucket: this.bucket, key, operation: 'PutObject', cause: error });
      }
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.path(key));
      if (!info.isFile()) return undefined;
      return { key, size: info.size, lastModified: new Date(Math.floor(info.mtimeMs / 1000) * 1000), metadata: {} };
    } catch {
      return undefined;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  /** Lists by walking the folder, then pages exactly as the memory store does (same S3 semantics). */
  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const view = new MemoryStore(this.bucket);
    const infos = new Map<string, ObjectInfo>();
    for (const key of await this.keysUnder(prefix)) {
      const info = await this.head(key);
      if (!info) continue;
      infos.set(key, info);
      await view.put(key, '');
    }
    const page = await view.list(prefix, options);
    return { ...page, objects: page.objects.map((o) => ({ ...infos.get(o.key)!, etag: undefined })) };
  }

  async *listAll(prefix: string): AsyncIterable<ObjectInfo> {
    for (const key of (await this.keysUnder(prefix)).sort(compareKeys)) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  /** sha256 of a file's bytes, for callers that want a content hash without holding the body. */
  async sha256(key: string): Promise<string> {
    return sha256Hex(await this.get(key));
  }

  private path(key: string): string {
    assertValidKey(key);
    if (key.split('/').some((part) => part === '..' || part === '.')) throw new ObjectNotFoundError(this.bucket, key, { operation: 'resolve' });
    return join(this.root, ...key.split('/'));
  }

  private async keysUnder(prefix: string): Promise<string[]> {
    // Walk from the deepest folder the prefix names; keys are '/'-joined paths relative to the root.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.') && entry.name.endsWith('.tmp')) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    await walk(join(this.root, ...base.split('/').filter(Boolean)));
    return keys;
  }

  private notFound(key: string, error: unknown, operation: string): Error {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') {
      return new ObjectNotFoundError(this.bucket, key, { operation, cause: error });
    }
    return error as Error;
  }
}
