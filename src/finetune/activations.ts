import { tf } from '../engine/backend.js';
import type { BatchAugment, ImageLoader } from './images.js';
import type { FinetuneNetwork } from './network.js';

export interface ActivationSourceOptions {
  /** Keep the frozen part's outputs of non-augmented images after their first pass. */
  cache: boolean;
  /** Host memory the cache may use; images beyond it are recomputed each time. @default 1 GiB */
  byteBudget?: number;
}

const product = (dims: readonly (number | null)[]) => dims.reduce<number>((n, d) => n * (d ?? 1), 1);

/**
 * Images in, frontier activations out. The frozen part of the network is a pure function of the image
 * (its BatchNormalization uses moving statistics, nothing in it trains), so without augmentation its
 * output for an image never changes: computed once, it is kept on the host and every later epoch and
 * every validation pass runs only the trainable part. With DenseNet121's last block trainable that is
 * most of the work saved. Augmented images change every epoch, so they always run the whole network.
 */
export class ActivationSource {
  private readonly cache = new Map<string, Float32Array[]>();
  private cachedBytes = 0;
  private readonly rowSizes: number[];

  constructor(
    private readonly network: FinetuneNetwork,
    private readonly loader: ImageLoader,
    private readonly options: ActivationSourceOptions,
  ) {
    this.rowSizes = network.frontier.map((t) => product(t.shape.slice(1)));
  }

  /** Frontier activations of `keys`, in frontier order; new tensors the caller owns. */
  async frontier(keys: readonly string[], augment?: BatchAugment): Promise<tf.Tensor[]> {
    if (!augment && keys.every((k) => this.cache.has(k))) return this.fromCache(keys);
    const pixels = await this.loader.batch(keys, augment);
    const values = tf.tidy(() => this.network.frozenForward(tf.tensor4d(pixels, [keys.length, ...this.network.inputShape])));
    if (!augment && this.options.cache) this.keep(keys, values);
    return values;
  }

  /** Images whose activations are cached (for tests and logs). */
  get size(): number {
    return this.cache.size;
  }

  private keep(keys: readonly string[], values: tf.Tensor[]): void {
    const rowBytes = this.rowSizes.reduce((a, b) => a + b, 0) * 4;
    const budget = this.options.byteBudget ?? 2 ** 30;
    const data = values.map((v) => v.dataSync() as Float32Array);
    keys.forEach((key, row) => {
      if (this.cache.has(key) || this.cachedBytes + rowBytes > budget) return;
      this.cache.set(key, data.map((d, i) => d.slice(row * this.rowSizes[i]!, (row + 1) * this.rowSizes[i]!)));
      this.cachedBytes += rowBytes;
    });
  }

  private fromCache(keys: readonly string[]): tf.Tensor[] {
    return this.network.frontier.map((symbolic, i) => {
      const size = this.rowSizes[i]!;
      const batch = new Float32Array(keys.length * size);
      keys.forEach((key, row) => batch.set(this.cache.get(key)![i]!, row * size));
      return tf.tensor(batch, [keys.length, ...(symbolic.shape.slice(1) as number[])]);
    });
  }
}
