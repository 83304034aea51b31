import { describe, expect, it } from 'vitest';
import { PipelineCache, type ClassifyPipeline } from '../../../functions/classify/pipelines.js';
import type { FeatureCut } from '../../../src/features/pipeline.js';

/** A pipeline that records its life; its extract waits for `release` when given one. */
function fakePipeline(name: string, log: string[], gate?: Promise<void>): ClassifyPipeline {
  return {
    namespace: { model: name } as ClassifyPipeline['namespace'],
    featureShape: [2],
    metadata: () => ({}),
    extract: async () => {
      await gate;
      return [{ ok: true, features: new Float32Array(2), shape: [2] }];
    },
    dispose: () => log.push(`dispose ${name}`),
  };
}

function counting(log: string[], gates: Record<string, Promise<void>> = {}) {
  return async (model: string, cut: FeatureCut) => {
    const name = `${model}|${typeof cut === 'string' ? cut : JSON.stringify(cut)}`;
    log.push(`build ${name}`);
    return fakePipeline(name, log, gates[name]);
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PipelineCache', () => {
  it('builds a (model, cut) once and reuses it', async () => {
    const log: string[] = [];
    const cache = new PipelineCache(counting(log), 2);

    await cache.use('vgg16', 'classifier', (p) => p.extract([]));
    await cache.use('vgg16', 'classifier', (p) => p.extract([]));
    await Promise.all([cache.use('vgg16', { layer: 'fc2' }, async () => 1), cache.use('vgg16', { layer: 'fc2' }, async () => 2)]);

    expect(log).toEqual(['build vgg16|classifier', 'build vgg16|{"layer":"fc2"}']);
    expect(cache.keys()).toEqual(['vgg16|classifier', 'vgg16|layer:fc2']);
  });

  it('keeps at most maxSize, disposing the least recently used', async () => {
    const log: string[] = [];
    const cache = new PipelineCache(counting(log), 2);

    await cache.use('a', 'classifier', async () => undefined);
    await cache.use('b', 'classifier', async () => undefined);
    await cache.use('a', 'classifier', async () => undefined); // a is now the most recent
    await cache.use('c', 'classifier', async () => undefined);
    await settle();

    expect(cache.keys()).toEqual(['a|classifier', 'c|classifier']);
    expect(log).toEqual(['build a|classifier', 'build b|classifier', 'build c|classifier', 'dispose b|classifier']);
  });

  it('never disposes a pipeline while a request is running on it', async () => {
    const log: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const cache = new PipelineCache(counting(log, { 'a|classifier': gate }), 1);

    const running = cache.use('a', 'classifier', (p) => p.extract([]));
    await settle();
    await cache.use('b', 'classifier', async () => undefined); // evicts a while it runs
    await settle();
    expect(log).not.toContain('dispose a|classifier');

    open();
    const [result] = await running;
    await settle();

    expect(result).toMatchObject({ ok: true });
    expect(log).toContain('dispose a|classifier');
    expect(cache.keys()).toEqual(['b|classifier']);
  });

  it('does not cache a failed build: the next request builds again', async () => {
    let attempts = 0;
    const cache = new PipelineCache(async () => {
      attempts++;
      if (attempts === 1) throw new Error('weights missing');
      return fakePipeline('ok', []);
    });

    await expect(cache.use('a', 'classifier', async () => undefined)).rejects.toThrow('weights missing');
    await settle();
    await cache.use('a', 'classifier', async () => undefined);

    expect(attempts).toBe(2);
    expect(cache.keys()).toEqual(['a|classifier']);
  });

  it('dispose() releases everything; maxSize must be ≥ 1', async () => {
    const log: string[] = [];
    const cache = new PipelineCache(counting(log), 3);
    await cache.use('a', 'classifier', async () => undefined);
    await cache.use('a', { pooling: 'avg' }, async () => undefined);

    cache.dispose();
    await settle();

    expect(log.filter((l) => l.startsWith('dispose'))).toEqual(['dispose a|classifier', 'dispose a|{"pooling":"avg"}']);
    expect(cache.keys()).toEqual([]);
    expect(() => new PipelineCache(counting([]), 0)).toThrow(RangeError);
  });
});
