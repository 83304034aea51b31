import { backendGeneration } from '../engine/backend.js';
import type { ObjectStore } from '../store/index.js';
import { HeadNotFoundError } from './errors.js';
import { pointerKey, validateHeadId } from './keys.js';
import { loadHead } from './load.js';
import type { LoadedHead } from './types.js';

export interface HeadCacheOptions {
  /** Heads kept loaded; the least recently used one is disposed beyond this. @default 8 */
  maxSize?: number;
  /**
   * Check on every `get` that the head is still published (one HEAD request), so a deleted head stops
   * classifying at once. @default true
   */
  revalidate?: boolean;
}

/**
 * A small LRU of loaded heads for a warm classify function: loading a head costs four GETs and a model
 * build, using a cached one nothing. The cache owns the models: it disposes a head when it is evicted,
 * deleted or cleared, so use a model right after `get` and do not keep it.
 */
export class HeadCache {
  private readonly maxSize: number;
  private readonly revalidate: boolean;
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Promise<LoadedHead>>();
  /** The backend a head was loaded on (backendGeneration): one loaded before a backend restart is dead. */
  private readonly loadedOn = new Map<string, number>();

  constructor(private readonly store: ObjectStore, options: HeadCacheOptions = {}) {
    this.maxSize = options.maxSize ?? 8;
    if (!Number.isInteger(this.maxSize) || this.maxSize < 1) throw new RangeError(`HeadCache maxSize must be an integer ≥ 1, got ${this.maxSize}`);
    this.revalidate = options.revalidate ?? true;
  }

  get size(): number {
    return this.entries.size;
  }

  has(headId: string): boolean {
    return this.entries.has(headId);
  }

  /** The loaded head; loads it on a miss (concurrent misses share one load). */
  async get(headId: string): Promise<LoadedHead> {
    validateHeadId(headId);
    if (this.entries.has(headId) && this.loadedOn.get(headId) !== backendGeneration()) this.forget(headId);
    const cached = this.entries.get(headId);
    if (cached) {
      if (this.revalidate && !(await this.store.exists(pointerKey(headId)))) {
        await this.evict(headId);
        throw new HeadNotFoundError(headId);
      }
      this.entries.delete(headId);
      this.entries.set(headId, cached);
      return cached;
    }
    const loading = loadHead(this.store, headId);
    this.entries.set(headId, loading);
    this.loadedOn.set(headId, backendGeneration());
    // A failed load is not cached: the next call tries again.
    loading.catch(() => {
      if (this.entries.get(headId) === loading) this.forget(headId);
    });
    await this.trim();
    return loading;
  }

  /** Drops (and disposes) one head, e.g. after DELETE /models/{id}. */
  async evict(headId: string): Promise<void> {
    const entry = this.entries.get(headId);
    this.forget(headId);
    await disposeEntry(entry);
  }

  /** Drops every head. */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.loadedOn.clear();
    await Promise.all(all.map(disposeEntry));
  }

  /** Drops a head without disposing it: after a backend restart its tensors went with the old backend. */
  private forget(headId: string): void {
    this.entries.delete(headId);
    this.loadedOn.delete(headId);
  }

  private async trim(): Promise<void> {
    while (this.entries.size > this.maxSize) {
      const oldest = this.entries.keys().next().value as string;
      await this.evict(oldest);
    }
  }
}

async function disposeEntry(entry: Promise<LoadedHead> | undefined): Promise<void> {
  const loaded = await entry?.catch(() => undefined);
  loaded?.model.dispose();
}
