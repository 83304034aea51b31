import { HeadstartError } from '../errors.js';
import { encodeSafetensors } from './format/safetensors.js';
import { errorKey, featureKey, linkKey, parseImageKey, sha256Hex } from './keys.js';
import type { FeatureNamespace } from './namespace.js';
import type { ExtractResult } from './pipeline.js';
import { isTransientError, type ObjectStore } from '../store/index.js';

/** One object that landed under `images/` (from an S3 event, a listing, or a local walk). */
export interface IngestRecord {
  key: string;
  size?: number;
  /** The object's ETag (from the event or a listing): with the link's, it tells a re-upload of the same bytes. */
  etag?: string;
}

export type IngestStatus = 'extracted' | 'cached' | 'failed' | 'skipped' | 'retry';

export interface IngestOutcome {
  key: string;
  status: IngestStatus;
  sha256?: string;
  /** Why it failed (permanent) or must be retried (transient). */
  reason?: string;
  code?: string;
}

/** What `links/<image key>.json` holds: the content hash an image key was extracted from, or why it failed. */
export interface LinkRecord {
  key: string;
  sha256: string;
  /** The image's ETag when it was read: the index compares it with the listing's to spot re-uploads. */
  etag?: string;
  status: 'ok' | 'failed';
  code?: string;
  reason?: string;
}

/**
 * What the Ingestor needs of a feature pipeline: FeaturePipeline is one; a unit test fakes it, so the
 * storage and partial-failure logic is tested without a model.
 */
export interface IngestPipeline {
  /** Every key the Ingestor writes is in this namespace. */
  readonly namespace: FeatureNamespace;
  /** The `__metadata__` stored with one image's features. */
  metadata(source: string): Record<string, string>;
  /** Features per image, in input order; a bad image is a failed result, never a throw. */
  extract(images: readonly Buffer[]): Promise<ExtractResult[]>;
}

export interface IngestOptions {
  /** Images larger than this fail permanently without being downloaded. @default 50 MiB */
  maxImageBytes?: number;
}

/**
 * Turns image objects into cached feature tensors. Content-addressed and idempotent: the same bytes are
 * extracted once whatever their key, and a redelivered record writes nothing. A bad image fails alone
 * (an `errors/<sha256>.json` record, never retried); a storage hiccup is reported as `retry`.
 */
export class Ingestor {
  private readonly maxImageBytes: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly pipeline: IngestPipeline,
    options: IngestOptions = {},
  ) {
    this.maxImageBytes = options.maxImageBytes ?? 50 * 1024 * 1024;
  }

  async ingest(records: readonly IngestRecord[]): Promise<IngestOutcome[]> {
    const prepared = await Promise.all(records.map((r) => this.prepare(r)));
    // Equal bytes under several keys in one batch go through the model once.
    const todo = new Map<string, { bytes: Buffer; images: Array<{ key: string; etag?: string }> }>();
    for (const p of prepared) {
      if (!('bytes' in p)) continue;
      const entry = todo.get(p.sha256) ?? { bytes: p.bytes, images: [] };
      entry.images.push({ key: p.key, etag: p.etag });
      todo.set(p.sha256, entry);
    }
    const shas = [...todo.keys()];
    const results = shas.length ? await this.pipeline.extract(shas.map((sha) => todo.get(sha)!.bytes)) : [];
    const written = new Map<string, IngestOutcome>();
    await Promise.all(
      shas.map(async (sha, i) => {
        const { images } = todo.get(sha)!;
        const first = images[0]!.key;
        const result = results[i]!;
        const outcome = await this.guard(first, sha, async (): Promise<IngestOutcome> => {
          if (result.ok) {
            const meta = this.pipeline.metadata(first);
            const body = encodeSafetensors({ features: { dtype: 'F32', shape: result.shape, data: result.features } }, meta);
            await this.store.put(featureKey(this.pipeline.namespace, sha), body, { contentType: 'application/octet-stream' });
            await Promise.all(images.map(({ key, etag }) => this.writeLink({ key, sha256: sha, etag, status: 'ok' })));
            return { key: first, status: 'extracted', sha256: sha };
          }
          await this.recordFailure(images, sha, result.error);
          return { key: first, status: 'failed', sha256: sha, code: result.error.code, reason: result.error.message };
        });
        for (const { key } of images) written.set(key, { ...outcome, key });
      }),
    );
    return prepared.map((p) => ('bytes' in p ? written.get(p.key)! : p));
  }

  /** Reads one record and decides whether it needs the model: outcome if not, bytes if so. */
  private async prepare(record: IngestRecord): Promise<IngestOutcome | { key: string; sha256: string; bytes: Buffer; etag?: string }> {
    const { key } = record;
    if (!parseImageKey(key)) return { key, status: 'skipped', reason: 'not under images/<dataset>/<label>/' };
    let { size, etag } = record;
    let bytes: Buffer;
    try {
      if (size === undefined || etag === undefined) {
        const info = await this.store.head(key);
        if (!info) return { key, status: 'skipped', reason: 'object no longer exists' };
        ({ size, etag } = info);
      }
      if (size > this.maxImageBytes) {
        return this.failWithoutBytes(key, size, etag);
      }
      bytes = await this.store.get(key);
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchKey') return { key, status: 'skipped', reason: 'object no longer exists' };
      return transientOutcome(key, undefined, error);
    }
    const sha256 = sha256Hex(bytes);
    return this.guard(key, sha256, async (): Promise<IngestOutcome | { key: string; sha256: string; bytes: Buffer; etag?: string }> => {
      const link = await this.readLink(key);
      if (link?.sha256 === sha256) {
        // Same bytes as last time: a redelivery writes nothing; a re-upload only refreshes the link's ETag.
        if (link.etag !== etag) await this.writeLink({ ...link, etag });
        return link.status === 'ok'
          ? { key, status: 'cached', sha256 }
          : { key, status: 'failed', sha256, code: link.code, reason: link.reason };
      }
      if (await this.store.exists(featureKey(this.pipeline.namespace, sha256))) {
        await this.writeLink({ key, sha256, etag, status: 'ok' });
        return { key, status: 'cached', sha256 };
      }
      if (bytes.length === 0) {
        await this.recordFailure([{ key, etag }], sha256, new HeadstartError('EmptyImage', 'the file is empty (0 bytes)'));
        return { key, status: 'failed', sha256, code: 'EmptyImage', reason: 'the file is empty (0 bytes)' };
      }
      return { key, sha256, bytes, etag };
    });
  }

  private async failWithoutBytes(key: string, size: number, etag: string | undefined): Promise<IngestOutcome> {
    const reason = `the file is ${size} bytes, over the ${this.maxImageBytes}-byte limit`;
    // Without the bytes there is no content hash: key the error record by the key's hash instead.
    const sha = sha256Hex(Buffer.from(`key:${key}`));
    return this.guard(key, sha, async () => {
      await this.recordFailure([{ key, etag }], sha, new HeadstartError('ImageTooLarge', reason));
      return { key, status: 'failed', sha256: sha, code: 'ImageTooLarge', reason };
    });
  }

  private async recordFailure(images: Array<{ key: string; etag?: string }>, sha256: string, error: HeadstartError): Promise<void> {
    const record = { keys: images.map((i) => i.key), sha256, code: error.code, reason: error.message, namespace: this.pipeline.namespace, at: new Date().toISOString() };
    await this.store.put(errorKey(sha256), JSON.stringify(record, null, 2), { contentType: 'application/json' });
    await Promise.all(images.map(({ key, etag }) => this.writeLink({ key, sha256, etag, status: 'failed', code: error.code, reason: error.message })));
  }

  private async readLink(key: string): Promise<LinkRecord | undefined> {
    try {
      return JSON.parse((await this.store.get(linkKey(this.pipeline.namespace, key))).toString('utf8')) as LinkRecord;
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  private writeLink(link: LinkRecord): Promise<void> {
    return this.store.put(linkKey(this.pipeline.namespace, link.key), JSON.stringify(link), { contentType: 'application/json' });
  }

  /** Runs a storage step; a transient storage error becomes a `retry` outcome instead of failing the batch. */
  private async guard<T>(key: string, sha256: string | undefined, step: () => Promise<T>): Promise<T | IngestOutcome> {
    try {
      return await step();
    } catch (error) {
      return transientOutcome(key, sha256, error);
    }
  }
}

function transientOutcome(key: string, sha256: string | undefined, error: unknown): IngestOutcome {
  if (!isTransientError(error)) throw error;
  return { key, status: 'retry', sha256, code: (error as { code?: string }).code ?? 'Transient', reason: (error as Error).message };
}
