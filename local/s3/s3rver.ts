/**
 * Typed handles on s3rver 3.7.1, a CommonJS package without type declarations. Only what
 * local/s3 uses is described here.
 */
import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface S3rverOptions {
  port: number;
  address: string;
  directory: string;
  silent: boolean;
  resetOnClose: boolean;
  configureBuckets: { name: string; configs?: Array<string | Buffer> }[];
}

/** The event s3rver emits after storing, copying or deleting an object. */
export interface S3rverEvent {
  Records: {
    eventTime: string;
    eventName: string;
    requestParameters: { sourceIPAddress: string };
    responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
    s3: {
      bucket: { name: string };
      object: { key: string; size?: number | string; eTag?: string; sequencer: string };
    };
  }[];
}

/** A koa middleware, as s3rver (a Koa application) composes them. */
export type S3rverMiddleware = (ctx: never, next: () => Promise<unknown>) => unknown;

export interface S3rverInstance extends EventEmitter {
  /** Koa's middleware stack, composed when the server starts listening: logger, XML body, mount, vhost, router. */
  middleware: S3rverMiddleware[];
  /** The bucket store; `context.store` is what request handlers see. Both are replaced together. */
  store: FilesystemStoreInstance;
  context: { store: FilesystemStoreInstance };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: import('node:http').Server;
}

/** The koa context of one request, as far as the ListObjectsV2 fix reads and writes it. */
export interface S3rverContext {
  query: Record<string, string>;
  params: { bucket: string };
  body: unknown;
}

/** s3rver's S3Object model: what the store's listObjects returns per key. */
export interface S3rverObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  /** The bytes, as the PUT handler hands them to the store. */
  content: Buffer | NodeJS.ReadableStream | null;
}

export interface ListObjectsOptions {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  maxKeys?: number;
}

export interface ListObjectsResult {
  objects: S3rverObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

export interface FilesystemStoreInstance {
  getBucketPath(bucket: string): string;
  /** The file of one part of a stored object: 'object' (the bytes), 'metadata.json', 'object.md5', … */
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  /** A bucket, or null when there is none (s3rver stats its folder on every request). */
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** A parsed configuration (cors, website, …) of a bucket (key undefined) or an object, or null. */
  getSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<void>;
  deleteSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<void>;
  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsResult>;
  initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void>;
  putPart(bucket: string, uploadId: string, partNumber: string | number, content: NodeJS.ReadableStream): Promise<{ size: number; md5: string }>;
  putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number | string }>): Promise<{ size: number; md5: string }>;
}

export interface FilesystemStoreConstructor {
  new (directory: string): FilesystemStoreInstance;
  decodeKeyPath(keyPath: string): string;
}

export type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;
export type S3rverErrorConstructor = new (code: string, message: string, detail?: Record<string, unknown>) => Error;

export const S3rver = require('s3rver') as S3rverConstructor;
export const S3Error = require('s3rver/lib/models/error') as S3rverErrorConstructor;
export const FilesystemStore = require('s3rver/lib/stores/filesystem') as FilesystemStoreConstructor;
export const S3Object = require('s3rver/lib/models/object') as (new (
  bucket: string,
  key: string,
  content: null,
  metadata: Record<string, string>,
) => S3rverObject) & {
  /** The system metadata s3rver stores with an object (x-amz-meta-* aside). */
  ALLOWED_METADATA: readonly string[];
};
/** s3rver's accounts: its own V4 check (signature unchecked) looks the key id up here, so ours must be in it. */
export const AWSAccount = require('s3rver/lib/models/account') as {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void; revokeAccessKey(accessKeyId: string): void };
};
/** The bucket controller module; `routes.js` looks its functions up on every request. */
export const bucketController = require('s3rver/lib/controllers/bucket') as {
  getBucket: (ctx: S3rverContext) => Promise<void>;
};
