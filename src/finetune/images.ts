import { HeadstartError } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import type { Random } from '../heads/random.js';
import { loadImage } from '../image/load.js';
import { preprocessInto } from '../image/preprocess.js';
import { ObjectNotFoundError, StoreError, type ObjectStore } from '../store/index.js';
import type { Interpolation, PreprocessMode } from '../zoo/types.js';
import { augmentPixels } from './augment.js';
import type { ResolvedAugment } from './types.js';

export interface ImageLoaderOptions {
  /** [height, width] the model takes. */
  inputSize: [number, number];
  interpolation: Interpolation;
  preprocess: PreprocessMode;
  /** Encoded image bytes kept in memory between epochs; beyond it, images are read again. @default 256 MiB */
  byteBudget?: number;
}

/** How a training batch is augmented: the settings and the stream the transforms are drawn from. */
export interface BatchAugment {
  options: ResolvedAugment;
  random: Random;
}

/** The image's own fault (src/image errors) or gone since the listing; any other store fault is not the image's. */
function isUnusableImage(error: unknown): error is HeadstartError {
  if (error instanceof ObjectNotFoundError) return true;
  return error instanceof HeadstartError && !(error instanceof StoreError);
}

/** Reads in flight at once: enough to hide S3 latency, few enough for a small function. */
const READ_CONCURRENCY = 8;

/**
 * Turns image keys into model input: bytes from the store (kept in memory within a budget, so later
 * epochs do not read S3 again), decoded by `loadImage` at the model's size (Keras load_img), optionally
 * augmented on the decoded pixels, then `preprocessInto` a batch buffer.
 */
export class ImageLoader {
  private readonly bytes = new Map<string, Buffer>();
  private cachedBytes = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ImageLoaderOptions,
  ) {}

  /**
   * Decodes every image once and returns those that cannot be used (not an image, corrupt, deleted since
   * the listing), each with its error code: the job leaves them out instead of failing mid-epoch.
   * Store faults other than a missing key are thrown.
   */
  async check(keys: readonly string[]): Promise<{ key: string; code: string }[]> {
    const failures = await mapLimit(keys, READ_CONCURRENCY, async (key) => {
      try {
        await this.pixels(key);
        return undefined;
      } catch (error) {
        if (isUnusableImage(error)) return { key, code: error.code };
        throw error;
      }
    });
    return failures.filter((f): f is { key: string; code: string } => f !== undefined);
  }

  /**
   * The preprocessed batch [keys.length, height, width, 3] as host floats. With `augment`, each image
   * gets its own transform, drawn in key order (so the stream does not depend on read timing).
   */
  async batch(keys: readonly string[], augment?: BatchAugment): Promise<Float32Array> {
    const [height, width] = this.options.inputSize;
    const size = height * width * 3;
    const decoded = await mapLimit(keys, READ_CONCURRENCY, (key) => this.pixels(key));
    const out = new Float32Array(keys.length * size);
    decoded.forEach((pixels, i) => {
      const input = augment ? augmentPixels(pixels, height, width, augment.options, augment.random) : pixels;
      preprocessInto(input, out, i * size, this.options.preprocess);
    });
    return out;
  }

  private async pixels(key: string): Promise<Uint8Array> {
    const image = await loadImage(await this.read(key), { targetSize: this.options.inputSize, interpolation: this.options.interpolation });
    return image.data;
  }

  private async read(key: string): Promise<Buffer> {
    const cached = this.bytes.get(key);
    if (cached) return cached;
    const body = await this.store.get(key);
    if (this.cachedBytes + body.length <= (this.options.byteBudget ?? 256 * 2 ** 20)) {
      this.bytes.set(key, body);
      this.cachedBytes += body.length;
    }
    return body;
  }
}
