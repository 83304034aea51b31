/**
 * Real images for the benchmarks, from ../shared: the four photos, resized copies of them (sizes a
 * phone or a web page sends), and the fashion-mnist PNGs. Every image's bytes are distinct, so the
 * content-addressed feature cache never turns two uploads into one extraction.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { HeadstartError, InvalidArgumentError } from '../src/errors.js';
import { loadImage } from '../src/image/load.js';
import { preprocessInto } from '../src/image/preprocess.js';
import type { PreprocessMode } from '../src/zoo/types.js';

/** ../shared beside the repository (the read-only test data). */
export const SHARED_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)), 'shared');

export interface BenchImage {
  /** A file name for upload keys, unique in the set. */
  name: string;
  /** The class folder: the fashion-mnist label, or 'photo'. */
  label: string;
  bytes: Buffer;
  format: 'jpeg' | 'png';
  width: number;
  height: number;
}

/** Widths of the resized photo copies: a thumbnail, a web image, a phone upload. */
const VARIANT_WIDTHS = [224, 448, 1024];

async function benchImage(name: string, label: string, bytes: Buffer): Promise<BenchImage> {
  const meta = await sharp(bytes).metadata();
  if (meta.format !== 'jpeg' && meta.format !== 'png') throw new HeadstartError('BenchImages', `${name} is ${meta.format}, not JPEG or PNG.`);
  return { name, label, bytes, format: meta.format, width: meta.width ?? 0, height: meta.height ?? 0 };
}

/** The shared JPEGs and their resized copies (JPEG, quality 90). */
export async function loadPhotos(shared = SHARED_DIR): Promise<BenchImage[]> {
  const dir = join(shared, 'images');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
  const photos: BenchImage[] = [];
  for (const file of files) {
    const bytes = await readFile(join(dir, file));
    photos.push(await benchImage(file, 'photo', bytes));
    for (const width of VARIANT_WIDTHS) {
      const resized = await sharp(bytes).resize({ width }).jpeg({ quality: 90 }).toBuffer();
      photos.push(await benchImage(file.replace(/\.jpg$/, `-${width}w.jpg`), 'photo', resized));
    }
  }
  return photos;
}

/** Up to `count` fashion-mnist PNGs of a split, taking the labels in turn so any prefix holds every class. */
export async function loadFashionMnist(count: number, shared = SHARED_DIR, split: 'train' | 'test' = 'train'): Promise<BenchImage[]> {
  const root = join(shared, 'datasets', 'fashion-mnist-small', split);
  const labels = (await readdir(root)).sort();
  const files = await Promise.all(labels.map(async (label) => (await readdir(join(root, label))).filter((f) => f.endsWith('.png')).sort()));
  const picked: Array<{ label: string; file: string }> = [];
  for (let i = 0; picked.length < count && files.some((f) => i < f.length); i++) {
    labels.forEach((label, l) => {
      if (picked.length < count && i < files[l]!.length) picked.push({ label, file: files[l]![i]! });
    });
  }
  return Promise.all(picked.map(({ label, file }) => readFile(join(root, label, file)).then((bytes) => benchImage(file, label, bytes))));
}

/**
 * `count` distinct images: the photos first (16), then fashion-mnist PNGs.
 * @throws InvalidArgumentError when ../shared holds fewer, or two images have the same bytes.
 */
export async function loadBenchImages(count: number, shared = SHARED_DIR): Promise<BenchImage[]> {
  const photos = (await loadPhotos(shared)).slice(0, count);
  const images = [...photos, ...(await loadFashionMnist(count - photos.length, shared))];
  if (images.length < count) throw new InvalidArgumentError(`Asked for ${count} bench images; ${shared} holds ${images.length}.`);
  const digests = new Set(images.map((i) => createHash('sha256').update(i.bytes).digest('hex')));
  if (digests.size !== images.length) throw new InvalidArgumentError(`The bench images are not all distinct (${digests.size} of ${images.length}).`);
  return images;
}

/**
 * The same picture under new bytes: a comment inside the file (a JPEG COM segment after SOI, a PNG tEXt
 * chunk after IHDR), so another pass over the set is not a cache hit yet decodes to the same pixels.
 */
export function withMarker(image: BenchImage, marker: string): BenchImage {
  const text = Buffer.from(marker, 'latin1');
  const { bytes } = image;
  let marked: Buffer;
  if (image.format === 'jpeg') {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(text.length + 2);
    marked = Buffer.concat([bytes.subarray(0, 2), Buffer.from([0xff, 0xfe]), length, text, bytes.subarray(2)]);
  } else {
    // 8-byte signature, then IHDR: 4 length + 4 type + 13 data + 4 CRC.
    const data = Buffer.concat([Buffer.from('Comment\0', 'latin1'), text]);
    const chunk = Buffer.alloc(12 + data.length);
    chunk.writeUInt32BE(data.length, 0);
    chunk.write('tEXt', 4, 'latin1');
    data.copy(chunk, 8);
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
    marked = Buffer.concat([bytes.subarray(0, 33), chunk, bytes.subarray(33)]);
  }
  return { ...image, bytes: marked };
}

/** e.g. "16 JPEG (224–1024 px wide), 16 PNG (28×28)": the mix decides how much decoding costs. */
export function describeMix(images: readonly BenchImage[]): string {
  const groups = (['jpeg', 'png'] as const).map((format) => images.filter((i) => i.format === format));
  return groups
    .filter((g) => g.length > 0)
    .map((g) => {
      const widths = g.map((i) => i.width);
      const [lo, hi] = [Math.min(...widths), Math.max(...widths)];
      const size = lo === hi ? `${lo}×${g[0]!.height}` : `${lo}–${hi} px wide`;
      return `${g.length} ${g[0]!.format.toUpperCase()} (${size})`;
    })
    .join(', ');
}

/**
 * Decodes and preprocesses images into model-ready batches of `batchSize` (the last may be smaller),
 * as the pipeline does: the bare engine's input, prepared outside the timed loop.
 */
export async function preprocessBatches(
  images: readonly BenchImage[],
  inputSize: readonly [number, number],
  mode: PreprocessMode,
  batchSize: number,
): Promise<Array<{ batch: Float32Array; n: number }>> {
  const [height, width] = inputSize;
  const pixels = height * width * 3;
  const batches: Array<{ batch: Float32Array; n: number }> = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const batch = new Float32Array(chunk.length * pixels);
    for (const [j, image] of chunk.entries()) {
      const decoded = await loadImage(image.bytes, { targetSize: [height, width], interpolation: 'nearest' });
      preprocessInto(decoded.data, batch, j * pixels, mode);
    }
    batches.push({ batch, n: chunk.length });
  }
  return batches;
}
