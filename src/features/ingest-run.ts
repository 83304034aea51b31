import { HeadstartError } from '../errors.js';
import { isTransientError, type ObjectStore } from '../store/index.js';
import { encodeSafetensors } from './format/safetensors.js';
import type { IngestOutcome, IngestPipeline, IngestRecord, LinkRecord } from './ingest-types.js';
import { errorKey, featureKey, linkKey, parseImageKey } from '../layout.js';
import { sha256Hex } from '../util/hash.js';
import type { ExtractResult } from './pipeline.js';
import { StageClock } from './stages.js';
import { FEATURES_DIGEST, featureDigest, readLinkedFeature, type FeatureProblem } from './links.js';
import { logger } from '../logger.js';
import type { FeatureNamespace } from './namespace.js';

/**
 * Images read ahead of the model, at least: S3 answers a small object in roughly 100–200 ms (AWS,
 * "Performance design patterns for Amazon S3", timeouts and retries) and a new image takes two requests
 * in a row (GET, HEAD), so 32 in flight bring about 100 images/s, what a Lambda's CPUs run MobileNetV2
 * at. Never less than two model batches.
 */
export const DEFAULT_READ_AHEAD = 32;
/**
 * Model calls in flight beyond the pipeline's sessions: while every session infers a batch, the next one
 * decodes (sharp's threads), so no session waits for its next batch to be decoded.
 */
const DECODING_AHEAD = 1;

/** One key of the call, and where its outcome goes. */
interface ImageRef {
  key: string;
  etag?: string;
  index: number;
}

/** Bytes that need the model: one per content hash, with every key of the call that holds them. */
interface Todo {
  sha256: string;
  bytes: Buffer;
  images: ImageRef[];
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * One `Ingestor.ingest` call, as a three-stage pipeline: read (GET the image, hash it, check before
 * compute), extract (model batches), store (PUT feature, then links). Reads run ahead of the model
 * (`readAhead` images) and writes run behind it, so storage round trips overlap inference instead of
 * adding to it.
 *
 * S3 requests per new image: GET image, GET feature (absent), PUT feature, PUT link. The link is read only
 * when the bytes are known (a feature exists and checks out) or failed, to write nothing when it already
 * says so: a redelivery costs GET + GET feature + GET link and writes nothing. A link is written only after its feature,
 * so no link ever names a missing feature, and the call returns only when every write is done.
 */
export class IngestRun {
  readonly clock = new StageClock();
  private readonly outcomes: IngestOutcome[] = [];
  /** Read and waiting for a model call, by content hash: equal bytes go through the model once. */
  private readonly waiting = new Map<string, Todo>();
  /** Handed to the model in this call: later keys with the same bytes wait for its outcome. */
  private readonly dispatched = new Map<string, Deferred<IngestOutcome>>();
  /** Writes behind the model, and keys joining a dispatched hash. */
  private readonly writes: Promise<void>[] = [];
  private fatal: { error: unknown } | undefined;
  private readsLeft = 0;
  private slots: number;
  private readonly slotWaiters: Array<() => void> = [];
  private wake: () => void = () => undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly pipeline: IngestPipeline,
    private readonly maxImageBytes: number,
    readAhead = Math.max(DEFAULT_READ_AHEAD, 2 * pipeline.batchSize),
  ) {
    this.slots = readAhead;
  }

  /** One outcome per record, in record order; rejects with the first storage error no retry can cure. */
  async run(records: readonly IngestRecord[]): Promise<IngestOutcome[]> {
    this.readsLeft = records.length;
    const reads = records.map((record, index) => this.read(record, index));
    await this.dispatchAll();
    await Promise.all(reads);
    // Every write is durable before the call returns: only then may the caller acknowledge a record.
    for (let settled = 0; settled < this.writes.length; ) {
      const count = this.writes.length;
      await Promise.all(this.writes);
      settled = count;
    }
    if (this.fatal) throw this.fatal.error;
    return this.outcomes;
  }

  // --- read: GET, hash, check before compute -------------------------------------------------------

  private async read(record: IngestRecord, index: number): Promise<void> {
    await this.acquireSlot();
    let holdsSlot = true;
    try {
      if (this.fatal) return;
      const outcome = await this.prepare(record, index);
      if (outcome === 'queued') holdsSlot = false;
      else if (outcome) this.outcomes[index] = outcome;
    } catch (error) {
      this.fail(error);
    } finally {
      if (holdsSlot) this.releaseSlots(1);
      this.readsLeft--;
      this.wake();
    }
  }

  /** The record's outcome when it needs no model; 'queued' when it waits for one; undefined when it joined a hash. */
  private async prepare(record: IngestRecord, index: number): Promise<IngestOutcome | 'queued' | undefined> {
    const { key } = record;
    if (!parseImageKey(key)) return { key, status: 'skipped', reason: 'not under images/<dataset>/<label>/' };
    let { size, etag } = record;
    let bytes: Buffer;
    try {
      if (size === undefined || etag === undefined) {
        const info = await this.clock.request('get', 'HEAD', () => this.store.head(key));
        if (!info) return { key, status: 'skipped', reason: 'object no longer exists' };
        ({ size, etag } = info);
      }
      if (size > this.maxImageBytes) return await this.failWithoutBytes({ key, etag, index }, size);
      bytes = await this.clock.request('get', 'GET', () => this.store.get(key));
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchKey') return { key, status: 'skipped', reason: 'object no longer exists' };
      return transientOutcome(key, undefined, error);
    }
    const sha256 = sha256Hex(bytes);
    const image: ImageRef = { key, etag, index };
    if (this.join(image, sha256)) return undefined;
    return this.guard(key, sha256, async (): Promise<IngestOutcome | 'queued' | undefined> => {
      if (bytes.length === 0) {
        const error = new HeadstartError('EmptyImage', 'the file is empty (0 bytes)');
        await this.settleFailure([image], sha256, error);
        return failedOutcome(key, sha256, error);
      }
      const cached = await this.checkCached(image, sha256);
      if (cached) return cached;
      if (this.join(image, sha256)) return undefined;
      this.waiting.set(sha256, { sha256, bytes, images: [image] });
      return 'queued';
    });
  }

  /** Adds the key to a hash already read in this call; true when it did. */
  private join(image: ImageRef, sha256: string): boolean {
    const todo = this.waiting.get(sha256);
    if (todo) {
      todo.images.push(image);
      return true;
    }
    const dispatched = this.dispatched.get(sha256);
    if (!dispatched) return false;
    this.writes.push(this.task(() => this.joinLate(image, sha256, dispatched.promise)));
    return true;
  }

  /** A key whose bytes are already in a model call: its link follows that call's outcome. */
  private async joinLate(image: ImageRef, sha256: string, first: Promise<IngestOutcome>): Promise<void> {
    const outcome = await first;
    this.outcomes[image.index] = await this.guard(image.key, sha256, async () => {
      if (outcome.status === 'extracted') await this.writeLink({ key: image.key, sha256, etag: image.etag, status: 'ok', digest: outcome.digest });
      else if (outcome.status === 'failed') await this.writeLink({ key: image.key, sha256, etag: image.etag, status: 'failed', code: outcome.code, reason: outcome.reason });
      return { ...outcome, key: image.key };
    });
  }

  private async failWithoutBytes(image: ImageRef, size: number): Promise<IngestOutcome> {
    const error = new HeadstartError('ImageTooLarge', `the file is ${size} bytes, over the ${this.maxImageBytes}-byte limit`);
    // Without the bytes there is no content hash: key the error record by the key's hash instead.
    const sha = sha256Hex(Buffer.from(`key:${image.key}`));
    return this.guard(image.key, sha, async () => {
      await this.settleFailure([image], sha, error);
      return failedOutcome(image.key, sha, error);
    });
  }

  // --- extract: model batches -----------------------------------------------------------------------

  /** Hands the waiting images to the model a batch at a time, until every record is read. */
  private async dispatchAll(): Promise<void> {
    const calls = new Set<Promise<void>>();
    const batchSize = this.pipeline.batchSize;
    const callsInFlight = (this.pipeline.sessions ?? 1) + DECODING_AHEAD;
    for (;;) {
      await this.until(() => this.fatal !== undefined || this.waiting.size >= batchSize || this.readsLeft === 0);
      if (this.fatal || this.waiting.size === 0) break;
      while (calls.size >= callsInFlight) await Promise.race(calls);
      const batch = [...this.waiting.values()].slice(0, batchSize);
      for (const todo of batch) {
        this.waiting.delete(todo.sha256);
        this.dispatched.set(todo.sha256, deferred());
      }
      this.releaseSlots(batch.length);
      const call = this.task(() => this.extract(batch)).finally(() => calls.delete(call));
      calls.add(call);
    }
    await Promise.all(calls);
    // A fatal error stops dispatching: settle what waits on it so the call can end.
    for (const todo of this.waiting.values()) for (const image of todo.images) this.outcomes[image.index] = { key: image.key, status: 'retry', code: 'Aborted' };
    for (const pending of this.dispatched.values()) pending.resolve({ key: '', status: 'retry', code: 'Aborted' });
  }

  private async extract(batch: Todo[]): Promise<void> {
    let results: ExtractResult[];
    try {
      results = await this.pipeline.extract(batch.map((t) => t.bytes), this.clock);
    } catch (error) {
      for (const todo of batch) this.dispatched.get(todo.sha256)!.resolve({ key: '', status: 'retry', code: 'Aborted' });
      throw error;
    }
    // Stored behind the model: the next batch's model call does not wait for these writes.
    batch.forEach((todo, i) => this.writes.push(this.task(() => this.storeOne(todo, results[i]!))));
  }

  // --- store: PUT feature, then links ---------------------------------------------------------------

  private async storeOne(todo: Todo, result: ExtractResult): Promise<void> {
    const { sha256, images } = todo;
    const first = images[0]!.key;
    const outcome = await this.guard(first, sha256, async (): Promise<IngestOutcome> => {
      if (!result.ok) {
        await this.settleFailure(images, sha256, result.error);
        return failedOutcome(first, sha256, result.error);
      }
      const digest = featureDigest(result.features);
      // The file carries its own digest too: a check needs no link (a new key with the same bytes has none yet).
      const meta = { ...this.pipeline.metadata(first), [FEATURES_DIGEST]: digest };
      const body = await this.clock.time('encode', () => encodeSafetensors({ features: { dtype: 'F32', shape: result.shape, data: result.features } }, meta));
      await this.clock.request('putFeature', 'PUT', () =>
        this.store.put(featureKey(this.pipeline.namespace, sha256), body, { contentType: 'application/octet-stream' }),
      );
      await Promise.all(uniqueKeys(images).map(({ key, etag }) => this.writeLink({ key, sha256, etag, status: 'ok', digest })));
      return { key: first, status: 'extracted', sha256, digest };
    });
    for (const image of images) this.outcomes[image.index] = { ...outcome, key: image.key };
    this.dispatched.get(sha256)!.resolve(outcome);
  }

  /**
   * The `cached` outcome when these bytes' feature exists and checks out (links.ts `readLinkedFeature`: it
   * decodes, its values are finite, and it has the digest this key's link recorded for the same bytes); the
   * key's link then points at it. Undefined when there is none, or it is bad: the bytes are extracted again
   * and the feature overwritten, so a backfill repairs a corrupt cache instead of re-linking it.
   */
  private async checkCached(image: ImageRef, sha256: string): Promise<IngestOutcome | undefined> {
    const ns = this.pipeline.namespace;
    const first = await this.clock.request('check', 'GET', () => readLinkedFeature(this.store, ns, { key: image.key, sha256 }));
    if (!first.ok && first.problem.kind === 'missing') return undefined;
    const link = await this.readLink(image.key);
    const recorded = link?.sha256 === sha256 && link.status === 'ok' ? link.digest : undefined;
    const checked = first.ok && recorded !== undefined && recorded !== first.digest ? { ok: false as const, problem: { ...featureProblem(ns, image.key, sha256), detail: `its values' sha256 is ${first.digest}, its link recorded ${recorded}` } } : first;
    if (!checked.ok) {
      logger.warn(`feature cache: ${checked.problem.object} (the features of ${image.key}) is ${checked.problem.kind}: ${checked.problem.detail}; extracting it again`, { ...checked.problem });
      return undefined;
    }
    await this.settleLink(image, sha256, checked.digest, link);
    return { key: image.key, status: 'cached', sha256, digest: checked.digest };
  }

  /** Points the key's link at bytes whose feature exists; writes only what the link does not already say. */
  private async settleLink(image: ImageRef, sha256: string, digest: string, link: LinkRecord | undefined): Promise<void> {
    if (link?.sha256 === sha256 && link.status === 'ok') {
      // Same bytes as last time: a redelivery writes nothing; a re-upload refreshes the link's ETag, an old link gains its digest.
      if (link.etag !== image.etag || link.digest !== digest) await this.writeLink({ ...link, etag: image.etag, digest });
      return;
    }
    await this.writeLink({ key: image.key, sha256, etag: image.etag, status: 'ok', digest });
  }

  /** Records a permanent failure (errors/ and the links) unless the links already record it. */
  private async settleFailure(images: ImageRef[], sha256: string, error: HeadstartError): Promise<void> {
    const unique = uniqueKeys(images);
    const links = await Promise.all(unique.map((i) => this.readLink(i.key)));
    const recorded = links.every((l) => l?.sha256 === sha256 && l.status === 'failed' && l.code === error.code);
    if (recorded) {
      await Promise.all(unique.map((image, i) => (links[i]!.etag === image.etag ? undefined : this.writeLink({ ...links[i]!, etag: image.etag }))));
      return;
    }
    const record = { keys: unique.map((i) => i.key), sha256, code: error.code, reason: error.message, namespace: this.pipeline.namespace, at: new Date().toISOString() };
    // The error record takes the place of the feature file: its own stage would only split hairs.
    await this.clock.request('putFeature', 'PUT', () => this.store.put(errorKey(sha256), JSON.stringify(record, null, 2), { contentType: 'application/json' }));
    await Promise.all(
      unique.map(({ key, etag }) => this.writeLink({ key, sha256, etag, status: 'failed', code: error.code, reason: error.message })),
    );
  }

  private async readLink(key: string): Promise<LinkRecord | undefined> {
    try {
      const body = await this.clock.request('check', 'GET', () => this.store.get(linkKey(this.pipeline.namespace, key)));
      return JSON.parse(body.toString('utf8')) as LinkRecord;
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  private writeLink(link: LinkRecord): Promise<void> {
    return this.clock.request('putLink', 'PUT', () =>
      this.store.put(linkKey(this.pipeline.namespace, link.key), JSON.stringify(link), { contentType: 'application/json' }),
    );
  }

  // --- plumbing -------------------------------------------------------------------------------------

  /** Runs a storage step; a transient storage error becomes a `retry` outcome instead of failing the call. */
  private async guard<T>(key: string, sha256: string | undefined, step: () => Promise<T>): Promise<T | IngestOutcome> {
    try {
      return await step();
    } catch (error) {
      return transientOutcome(key, sha256, error);
    }
  }

  /** A background step: its uncurable error stops the call (and is thrown from `run`) instead of going unhandled. */
  private task(step: () => Promise<void>): Promise<void> {
    return step().catch((error: unknown) => this.fail(error));
  }

  private fail(error: unknown): void {
    this.fatal ??= { error };
    // Nothing new starts: readers waiting for a slot go through and return at once.
    this.releaseSlots(Number.POSITIVE_INFINITY);
    this.wake();
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private async acquireSlot(): Promise<void> {
    while (this.slots <= 0) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.slots--;
  }

  private releaseSlots(n: number): void {
    this.slots += n;
    for (const resolve of this.slotWaiters.splice(0, n)) resolve();
  }
}

function uniqueKeys(images: ImageRef[]): ImageRef[] {
  return [...new Map(images.map((i) => [i.key, i])).values()];
}

function failedOutcome(key: string, sha256: string, error: HeadstartError): IngestOutcome {
  return { key, status: 'failed', sha256, code: error.code, reason: error.message };
}

function transientOutcome(key: string, sha256: string | undefined, error: unknown): IngestOutcome {
  if (!isTransientError(error)) throw error;
  return { key, status: 'retry', sha256, code: (error as { code?: string }).code ?? 'Transient', reason: (error as Error).message };
}

function featureProblem(ns: FeatureNamespace, image: string, sha256: string): Omit<FeatureProblem, 'detail'> {
  return { object: featureKey(ns, sha256), image, kind: 'digest mismatch' };
}
