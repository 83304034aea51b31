import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InvalidArgumentError } from '../errors.js';
import { isStream, knownLength } from './body.js';
import { ObjectNotFoundError } from './errors.js';
import { assertValidKey, resolveMaxKeys } from './keys.js';
import { paginate } from './list.js';
import { toStoreError, type S3Operation } from './s3-errors.js';
import type { ListOptions, ListResult, ObjectBody, ObjectInfo, ObjectStore, PutOptions } from './types.js';

/** Bodies above this size, and every stream, go through a managed (multipart) upload. */
export const MULTIPART_THRESHOLD_BYTES = 8 * 1024 * 1024;

/** S3 rejects multipart parts below 5 MiB (except the last). */
const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

export interface S3StoreOptions {
  /** Part size of managed uploads (S3's minimum is 5 MiB). @default 8 MiB */
  partSizeBytes?: number;
  /** Parts uploaded at once by one managed upload. @default 4 */
  queueSize?: number;
}

/**
 * The ObjectStore over an S3 client created elsewhere (once per process, see `createS3Client`):
 * the same code talks to AWS and to the embedded local server.
 */
export class S3Store implements ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly partSizeBytes: number;
  private readonly queueSize: number;

  constructor(client: S3Client, bucket: string, options: S3StoreOptions = {}) {
    this.client = client;
    this.bucket = bucket;
    this.partSizeBytes = options.partSizeBytes ?? MULTIPART_THRESHOLD_BYTES;
    if (!Number.isInteger(this.partSizeBytes) || this.partSizeBytes < MIN_PART_SIZE_BYTES) {
      throw new InvalidArgumentError(`partSizeBytes must be an integer of at least ${MIN_PART_SIZE_BYTES} (S3's 5 MiB minimum), got ${this.partSizeBytes}.`);
    }
    this.queueSize = options.queueSize ?? 4;
  }

  async get(key: string): Promise<Buffer> {
    return this.call({ operation: 'GetObject', bucket: this.bucket, key }, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = await response.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  async getStream(key: string): Promise<Readable> {
    return this.call({ operation: 'GetObject', bucket: this.bucket, key }, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      // In Node the SDK's body is an http.IncomingMessage (a Readable) with helpers mixed in.
      return response.Body as Readable;
    });
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<void> {
    const params = {
      Bucket: this.bucket,
      Key: key,
      Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      ContentType: options.contentType,
      Metadata: options.metadata,
    };
    const length = knownLength(body);
    await this.call({ operation: 'PutObject', bucket: this.bucket, key }, async () => {
      if (!isStream(body) && length !== undefined && length <= MULTIPART_THRESHOLD_BYTES) {
        await this.client.send(new PutObjectCommand(params));
        return;
      }
      // A stream has no length up front; Upload buffers it part by part (one PutObject when it is small).
      const upload = new Upload({ client: this.client, params, partSize: this.partSizeBytes, queueSize: this.queueSize });
      await upload.done();
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      return await this.call({ operation: 'HeadObject', bucket: this.bucket, key }, async () => {
        const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        return {
          key,
          size: r.ContentLength ?? 0,
          etag: unquote(r.ETag),
          lastModified: r.LastModified,
          metadata: r.Metadata ?? {},
          contentType: r.ContentType,
        };
      });
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const maxKeys = resolveMaxKeys(options.maxKeys);
    return this.call({ operation: 'ListObjectsV2', bucket: this.bucket }, async () => {
      const r = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix || undefined,
          Delimiter: options.delimiter || undefined,
          MaxKeys: maxKeys,
          ContinuationToken: options.continuationToken,
        }),
      );
      return {
        objects: (r.Contents ?? []).map((o) => ({
          key: o.Key!,
          size: o.Size ?? 0,
          etag: unquote(o.ETag),
          lastModified: o.LastModified,
        })),
        commonPrefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix!),
        nextToken: r.IsTruncated ? r.NextContinuationToken : undefined,
      };
    });
  }

  listAll(prefix: string): AsyncIterable<ObjectInfo> {
    return paginate((p, o) => this.list(p, o), prefix);
  }

  async delete(key: string): Promise<void> {
    await this.call({ operation: 'DeleteObject', bucket: this.bucket, key }, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    });
  }

  /** Validates the key, runs the request and types its failure. */
  private async call<T>(op: S3Operation, run: () => Promise<T>): Promise<T> {
    if (op.key !== undefined) assertValidKey(op.key);
    try {
      return await run();
    } catch (err) {
      throw toStoreError(err, op);
    }
  }
}

/** S3 sends ETags in double quotes; the store reports the bare value. */
function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}
