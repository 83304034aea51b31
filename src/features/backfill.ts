import type { ObjectStore } from '../store/index.js';
import { Ingestor, type IngestOutcome, type IngestPipeline } from './ingest.js';
import { sha256Hex } from '../util/hash.js';
import { pendingImages } from './pending.js';
import type { FeatureNamespace } from './namespace.js';

/**
 * Model batches per ingest call: the Ingestor reads ahead and writes behind within a call, so a long call
 * keeps the model (a GPU's, in the batch job) fed across batches instead of draining every batch.
 */
const BATCHES_PER_CALL = 8;

export interface BackfillOptions {
  /** Images per model call (the pipeline's batch); an ingest call takes 8 of them. @default 16 */
  batch?: number;
  /** Split the work into `shards` by key hash and take shard `shard` (an AWS Batch array job's child). @default 1, 0 */
  shards?: number;
  shard?: number;
  /** Called once the work is known (with the keys still to extract), then after every image. */
  onPlan?: (plan: { pending: number; alreadyDone: number; keys: readonly string[] }) => void;
  onOutcome?: (outcome: IngestOutcome) => void;
  /** Stops between ingest calls (the server shutting down); what is done stays done, a rerun takes the rest. */
  signal?: AbortSignal;
}

export interface BackfillSummary {
  namespace: FeatureNamespace;
  alreadyDone: number;
  extracted: number;
  cached: number;
  failed: number;
  retry: number;
  seconds: number;
  failures: Array<Pick<IngestOutcome, 'key' | 'status' | 'code' | 'reason'>>;
}

/** Stable shard of a key: the first 32 bits of its sha256, modulo the shard count. */
export function shardOf(key: string, shards: number): number {
  return Number.parseInt(sha256Hex(Buffer.from(key, 'utf8')).slice(0, 8), 16) % shards;
}

/**
 * Extracts every image under `prefix` that has no up-to-date features, in batches: what the bulk
 * `headstart extract` command (the GPU batch job) and a local POST /backfill run. Resumable: a rerun
 * lists what is done and skips it; failures are recorded by the ingestor and summarised here.
 */
export async function backfill(store: ObjectStore, pipeline: IngestPipeline, prefix: string, options: BackfillOptions = {}): Promise<BackfillSummary> {
  const { batch = 16, shards = 1, shard = 0 } = options;
  const all = await pendingImages(store, pipeline.namespace, prefix);
  const pending = shards === 1 ? all.pending : all.pending.filter((o) => shardOf(o.key, shards) === shard);
  options.onPlan?.({ pending: pending.length, alreadyDone: all.done, keys: pending.map((o) => o.key) });
  const ingestor = new Ingestor(store, pipeline);
  const outcomes: IngestOutcome[] = [];
  const started = Date.now();
  const perCall = batch * BATCHES_PER_CALL;
  for (let i = 0; i < pending.length && !options.signal?.aborted; i += perCall) {
    const slice = pending.slice(i, i + perCall).map((o) => ({ key: o.key, size: o.size, etag: o.etag }));
    for (const outcome of await ingestor.ingest(slice)) {
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
  }
  const count = (s: IngestOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  return {
    namespace: pipeline.namespace,
    alreadyDone: all.done,
    extracted: count('extracted'),
    cached: count('cached'),
    failed: count('failed'),
    retry: count('retry'),
    seconds: (Date.now() - started) / 1000,
    failures: outcomes.filter((o) => o.status === 'failed' || o.status === 'retry').map(({ key, status, code, reason }) => ({ key, status, code, reason })),
  };
}
