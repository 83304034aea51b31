import { tf } from '../engine/backend.js';
import { preprocessInto } from '../image/preprocess.js';
import { mulberry32 } from '../heads/random.js';
import type { ExportSource } from './source.js';

/** How close an exported graph's probabilities must come to headstart's own (the bundle's promise). */
export const PARITY_TOLERANCE = 1e-4;

/** One reference input: RGB pixels at the model's input size, row-major [H, W, 3]. */
export interface ReferenceImage {
  name: string;
  pixels: Uint8Array;
}

/** `parity.json`: inputs any runtime can feed and the probabilities headstart computes for them. */
export interface ParityFile {
  input: { name: string; dtype: 'uint8'; shape: [number, number, number, number]; encoding: 'base64 of the raw RGB bytes, row-major [H, W, 3]' };
  tolerance: number;
  cases: Array<{ name: string; pixels: string; probabilities: number[]; top1: { index: number; label: string } }>;
}

/**
 * Three small synthetic pictures that exercise what a wrong export gets wrong: a colour gradient (channel
 * order, scale), blocks of saturated colours (offsets), and seeded noise (every pixel value).
 */
export function referenceImages(height: number, width: number): ReferenceImage[] {
  const make = (name: string, pixel: (y: number, x: number, c: number) => number): ReferenceImage => {
    const pixels = new Uint8Array(height * width * 3);
    for (let y = 0, i = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) pixels[i++] = pixel(y, x, c);
    return { name, pixels };
  };
  const random = mulberry32(18);
  const BLOCKS = [[230, 40, 20], [20, 110, 240], [250, 220, 30], [15, 15, 15]] as const;
  return [
    make('gradient', (y, x, c) => Math.round([x / (width - 1), y / (height - 1), 1 - x / (width - 1)][c]! * 255)),
    make('blocks', (y, x, c) => BLOCKS[(Math.floor(y / 28) * 2 + Math.floor(x / 28)) % 4]![c]!),
    make('noise', () => Math.floor(random() * 256)),
  ];
}

/**
 * Class probabilities [N, classes] of `images` the way headstart classifies: `preprocessInto` (the feature pipeline's
 * preprocessing), the network, the head. Independent of the merged graph, so it checks the export.
 */
export function referenceProbabilities(source: ExportSource, images: readonly ReferenceImage[]): Float32Array[] {
  const [height, width] = source.input.size;
  const size = height * width * 3;
  const batch = new Float32Array(images.length * size);
  images.forEach((image, i) => preprocessInto(image.pixels, batch, i * size, source.input.preprocess));
  const probabilities = tf.tidy(() => {
    let y = source.network.apply(tf.tensor4d(batch, [images.length, height, width, 3]), { training: false }) as tf.Tensor;
    if (source.head) y = source.head.apply(y.reshape([images.length, -1]), { training: false }) as tf.Tensor;
    return y.dataSync();
  });
  const classes = probabilities.length / images.length;
  return images.map((_, i) => Float32Array.from(probabilities.subarray(i * classes, (i + 1) * classes)));
}

/** Probabilities of `images` from an exported TF.js layers model (raw pixels in). */
export function mergedProbabilities(model: tf.LayersModel, images: readonly ReferenceImage[]): Float32Array[] {
  const [, height, width] = model.inputs[0]!.shape as number[];
  const pixels = new Float32Array(images.length * height! * width! * 3);
  images.forEach((image, i) => pixels.set(image.pixels, i * image.pixels.length));
  const out = tf.tidy(() => (model.apply(tf.tensor4d(pixels, [images.length, height!, width!, 3]), { training: false }) as tf.Tensor).dataSync());
  const classes = out.length / images.length;
  return images.map((_, i) => Float32Array.from(out.subarray(i * classes, (i + 1) * classes)));
}

/** Largest |a − b| over all rows. */
export function maxAbsDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  a.forEach((row, i) => row.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i]![j]!)))));
  return max;
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export function parityFile(source: ExportSource, images: readonly ReferenceImage[], probabilities: readonly Float32Array[], inputName: string): ParityFile {
  const [height, width] = source.input.size;
  return {
    input: { name: inputName, dtype: 'uint8', shape: [images.length, height, width, 3], encoding: 'base64 of the raw RGB bytes, row-major [H, W, 3]' },
    tolerance: PARITY_TOLERANCE,
    cases: images.map((image, i) => {
      const row = probabilities[i]!;
      const index = argmax(row);
      return { name: image.name, pixels: Buffer.from(image.pixels).toString('base64'), probabilities: Array.from(row), top1: { index, label: source.labels[index]! } };
    }),
  };
}
