import { createHash } from 'node:crypto';
import { afterAll, beforeAll, vi } from 'vitest';
import { encodeSafetensors } from '../../../src/features/format/safetensors.js';
import { featureKey, linkKey } from '../../../src/layout.js';
import { sha256Hex } from '../../../src/util/hash.js';
import type { FeatureNamespace } from '../../../src/features/pipeline.js';
import { mulberry32 } from '../../../src/heads/random.js';
import type { ObjectStore } from '../../../src/store/index.js';

/** The service's namespace in these tests: DenseNet121 avg_pool, as the fmnist check uses (narrower here). */
export const NS: FeatureNamespace = {
  model: 'densenet121',
  weightsDigest: '0123456789abcdef',
  layer: 'avg_pool',
  pooling: null,
  preprocess: 'torch',
  inputSize: [224, 224],
  interpolation: 'nearest',
  dtype: 'float32',
};

export interface SyntheticDataset {
  /** Extracted images per label. */
  labels: Record<string, number>;
  dim?: number;
  seed?: number;
  /** Images per label uploaded but not extracted yet. */
  pending?: Record<string, number>;
  /** Images per label whose extraction failed. */
  failed?: Record<string, number>;
  ns?: FeatureNamespace;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Writes a dataset in the real storage layout: `images/<dataset>/<label>/<n>.png`, a feature file per
 * extracted image (class centre ± 1.5 per dimension plus unit noise: separable) and its link record;
 * failed images get a failed link, pending ones only their image.
 */
export async function writeDataset(store: ObjectStore, dataset: string, spec: SyntheticDataset): Promise<void> {
  const { dim = 8, seed = 1, ns = NS } = spec;
  const random = mulberry32(seed);
  const labels = [...new Set([...Object.keys(spec.labels), ...Object.keys(spec.pending ?? {}), ...Object.keys(spec.failed ?? {})])].sort();
  for (const label of labels) {
    // Centres depend on the label name only (the bits of its hash), so train and validation datasets share classes.
    const bits = createHash('sha256').update(label).digest();
    const centre = Array.from({ length: dim }, (_, d) => ((bits[d % 32]! >> Math.floor(d / 32) % 8) & 1 ? 1.5 : -1.5));
    const counts = { ok: spec.labels[label] ?? 0, pending: spec.pending?.[label] ?? 0, failed: spec.failed?.[label] ?? 0 };
    let n = 0;
    for (const [status, count] of Object.entries(counts)) {
      for (let i = 0; i < count; i++, n++) {
        const key = `images/${dataset}/${label}/${n}.png`;
        const bytes = Buffer.from(`${dataset}/${label}/${n}/${seed}`);
        const sha256 = sha256Hex(bytes);
        await store.put(key, bytes, { contentType: 'image/png' });
        if (status === 'ok') {
          const data = Float32Array.from(centre, (c) => c + gaussian(random));
          await store.put(featureKey(ns, sha256), encodeSafetensors({ features: { dtype: 'F32', shape: [dim], data } }, { model: ns.model }));
          await store.put(linkKey(ns, key), JSON.stringify({ key, sha256, status: 'ok' }));
        } else if (status === 'failed') {
          await store.put(linkKey(ns, key), JSON.stringify({ key, sha256, status: 'failed', code: 'UnsupportedImage', reason: 'not an image' }));
        }
      }
    }
  }
}

/** Three separable classes, 20 images each: trains to 100% in a few epochs. */
export const THREE_CLASSES = { labels: { cat: 20, dog: 20, fox: 20 } } satisfies SyntheticDataset;

/** A head small and short enough for unit tests. */
export const FAST_HEAD = { hidden: [16], epochs: 10, batchSize: 16, learningRate: 0.01 };

/** Silences the runner's JSON log lines for the calling test file (they are for CloudWatch, not test output). */
export function quietLogs(): void {
  beforeAll(() => {
    for (const level of ['info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(() => {});
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });
}
