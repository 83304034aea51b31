import type { FeatureCut, FeaturePipeline } from '../../src/features/pipeline.js';

/**
 * What the classify service uses of a FeaturePipeline (tests may pass a lighter one). A fine-tuned
 * model's classifier also has its `labels`, in output order.
 */
export type ClassifyPipeline = Pick<FeaturePipeline, 'namespace' | 'featureShape' | 'extract' | 'metadata' | 'dispose'> & { labels?: readonly string[] };

/** Builds the pipeline of one (model, cut); called once per pair while it stays cached. */
export type PipelineFactory = (model: string, cut: FeatureCut) => Promise<ClassifyPipeline>;

/** Pipelines hold whole networks (VGG16 is 528 MB): a process keeps only a few. */
export const DEFAULT_MAX_PIPELINES = 3;

interface Entry<P> {
  pipeline: Promise<P>;
  /** Requests running on it right now: an evicted pipeline is disposed only when the last one ends. */
  users: number;
  evicted: boolean;
}

export function cutKey(cut: FeatureCut): string {
  if (cut === 'classifier') return 'classifier';
  return 'layer' in cut ? `layer:${cut.layer}` : `pooling:${cut.pooling}`;
}

/**
 * The warm pipelines of a process, per (model, cut), least recently used evicted beyond `maxSize`.
 * `use` lends a pipeline for the length of a callback, so an eviction never disposes one mid-request.
 * Anything disposable can be kept so (POST /explain keeps its Grad-CAM networks in one).
 */
export class PipelineCache<P extends { dispose(): void } = ClassifyPipeline> {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry<P>>();

  constructor(
    private readonly factory: (model: string, cut: FeatureCut) => Promise<P>,
    private readonly maxSize = DEFAULT_MAX_PIPELINES,
  ) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`PipelineCache maxSize must be an integer ≥ 1, got ${maxSize}`);
  }

  /** The cached (model, cut) keys, least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Runs `fn` on the pipeline of (model, cut), building it on a miss (concurrent misses share one build). */
  async use<T>(model: string, cut: FeatureCut, fn: (pipeline: P) => Promise<T>): Promise<T> {
    const entry = this.acquire(`${model}|${cutKey(cut)}`, () => this.factory(model, cut));
    try {
      return await fn(await entry.pipeline);
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) release(entry);
    }
  }

  /** Evicts every cut of `model` (a model that is gone); pipelines in use are disposed when their requests end. */
  drop(model: string): void {
    for (const key of this.keys()) if (key.startsWith(`${model}|`)) this.evict(key);
  }

  /** Disposes every pipeline not in use now, and the others as their requests end. */
  dispose(): void {
    for (const key of this.keys()) this.evict(key);
  }

  private acquire(key: string, build: () => Promise<P>): Entry<P> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
    } else {
      const created: Entry<P> = { pipeline: build(), users: 0, evicted: false };
      // A failed build is not cached: the next request tries again.
      created.pipeline.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      entry = created;
    }
    this.entries.set(key, entry);
    entry.users++;
    while (this.entries.size > this.maxSize) this.evict(this.entries.keys().next().value as string);
    return entry;
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.evicted = true;
    if (entry.users === 0) release(entry);
  }
}

function release<P extends { dispose(): void }>(entry: Entry<P>): void {
  entry.pipeline.then(
    (pipeline) => pipeline.dispose(),
    () => undefined, // nothing was built
  );
}
