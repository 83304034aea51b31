import type { Readable } from 'node:stream';

/** What a store knows about one object without reading its body. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** The entity tag without quotes: the hex MD5 of the body for single-part uploads. */
  etag?: string;
  lastModified?: Date;
  /** User metadata (`x-amz-meta-*`), keys lower-cased as S3 stores them. Only `head` returns it. */
  metadata?: Record<string, string>;
  contentType?: string;
}

export type ObjectBody = Buffer | Uint8Array | string | Readable;

export interface PutOptions {
  /** @default 'binary/octet-stream' (what S3 stores when none is sent) */
  contentType?: string;
  /** User metadata; keys are lower-cased, as S3 does. */
  metadata?: Record<string, string>;
}

export interface ListOptions {
  /** At most this many entries (objects plus common prefixes) per page. @default 1000 */
  maxKeys?: number;
  /** The `nextToken` of the previous page. */
  continuationToken?: string;
  /** Roll keys up to common prefixes at the first occurrence of this string after the prefix. */
  delimiter?: string;
}

export interface ListResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  /** Present when the listing is truncated: pass it as `continuationToken` for the next page. */
  nextToken?: string;
}

/**
 * One bucket of objects, with S3 semantics. Implemented over an S3 client (AWS or the embedded
 * local server) and in memory for unit tests; one shared test suite holds them to the same behaviour.
 */
export interface ObjectStore {
  readonly bucket: string;
  /** The whole body. Throws ObjectNotFoundError when the key does not exist. */
  get(key: string): Promise<Buffer>;
  /** The body as a stream the caller must consume or destroy. Throws ObjectNotFoundError when missing. */
  getStream(key: string): Promise<Readable>;
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<void>;
  /** Size, etag, metadata and content type; undefined when the key does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  exists(key: string): Promise<boolean>;
  /** One page of keys under `prefix`, in UTF-8 byte order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Every object under `prefix`, following continuation tokens. */
  listAll(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes the key; a missing key is not an error (S3 semantics). */
  delete(key: string): Promise<void>;
}
