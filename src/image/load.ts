import { readFile } from 'node:fs/promises';
import sharp, { type KernelEnum, type Metadata } from 'sharp';
import { HeadstartError, InvalidArgumentError, listValues } from '../errors.js';
import type { Interpolation } from '../zoo/types.js';
import {
  CorruptImageError,
  EmptyImageError,
  ImageNotFoundError,
  ImageTooLargeError,
  NotAnImageError,
  TruncatedImageError,
  UnsupportedFormatError,
  type SupportedImageFormat,
} from './errors.js';
import { isSupportedImageFormat, sniffImageFormat } from './format.js';
import { isTruncatedPng } from './png.js';
import { resizeNearest } from './resize.js';

export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];

/** Input pixel limit (width × height of the first frame): about a 10,000 × 10,000 photo. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface LoadImageOptions {
  /** [height, width] to resize to, straight (no crop, aspect ratio not kept), as Keras `load_img`. */
  targetSize?: [height: number, width: number];
  /** Resampling filter for the resize. @default 'nearest' (the Keras default) */
  interpolation?: Interpolation;
  /** Refuse inputs with more pixels than this, from the header, before decoding. @default 100_000_000 */
  maxPixels?: number;
}

export interface DecodedImage {
  /** Interleaved RGB, row-major: height × width × 3 bytes. */
  data: Uint8Array;
  height: number;
  width: number;
  /** The decoded picture before resizing: its format and its size after EXIF orientation. */
  source: { format: string; width: number; height: number };
}

/**
 * sharp kernels closest to the PIL filters Keras names. All three are, like PIL's, separable convolutions
 * whose support widens with the reduction factor (antialiased): 'linear' is PIL's triangle (BILINEAR),
 * 'cubic' is Catmull-Rom, the a = -0.5 cubic of PIL's BICUBIC, and 'lanczos3' is PIL's LANCZOS (a = 3).
 * Values can differ from PIL by a level or two (fixed-point rounding); 'nearest' is exact (resize.ts).
 */
const SHARP_KERNELS: Record<Exclude<Interpolation, 'nearest'>, keyof KernelEnum> = {
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

// Messages libvips loaders give when the data stops early (libpng's is generic: see isTruncatedPng).
const TRUNCATION = /premature end|unexpected end|truncat|end of file|not enough data|bad seek/i;

/**
 * Decodes an image like Keras `load_img(path, target_size, interpolation)`: RGB, first frame or page only,
 * resized straight to `targetSize`. Also applies the EXIF orientation. Pixel conventions follow PIL's
 * `convert('RGB')`: alpha is dropped (not composited on a background), grey is replicated to 3 channels,
 * 16-bit samples keep their high byte, embedded ICC profiles are ignored (PIL ignores them, so the
 * pretrained models saw the stored values). CMYK is converted to sRGB through its profile (or libvips'
 * default CMYK profile), which is more faithful than PIL's naive formula.
 *
 * @throws EmptyImageError, ImageNotFoundError, NotAnImageError, UnsupportedFormatError,
 *   ImageTooLargeError, CorruptImageError / TruncatedImageError (all HeadstartError with a `code`).
 */
export async function loadImage(input: Buffer | Uint8Array | string, options: LoadImageOptions = {}): Promise<DecodedImage> {
  const { targetSize, interpolation, maxPixels } = validateOptions(options);
  const bytes = await readInput(input);
  const format = identify(bytes);
  const metadata = await readHeader(bytes, format);
  if (metadata.width * metadata.height > maxPixels) throw new ImageTooLargeError(metadata.width, metadata.height, maxPixels);

  const rgb = await decodeRgb(bytes, format, metadata, maxPixels);
  const source = { format, width: rgb.width, height: rgb.height };
  if (!targetSize || (targetSize[0] === rgb.height && targetSize[1] === rgb.width)) return { ...rgb, source };
  const [height, width] = targetSize;
  return { data: await resize(rgb, width, height, interpolation), height, width, source };
}

interface ValidOptions {
  targetSize: [height: number, width: number] | undefined;
  interpolation: Interpolation;
  maxPixels: number;
}

function validateOptions(options: LoadImageOptions): ValidOptions {
  const { targetSize, interpolation = 'nearest', maxPixels = DEFAULT_MAX_PIXELS } = options;
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new InvalidArgumentError(`Unknown interpolation '${String(interpolation)}': expected ${listValues(INTERPOLATIONS)}.`);
  }
  if (!Number.isSafeInteger(maxPixels) || maxPixels <= 0) {
    throw new InvalidArgumentError(`maxPixels must be a positive integer, got ${String(maxPixels)}.`);
  }
  if (targetSize !== undefined) {
    const valid = Array.isArray(targetSize) && targetSize.length === 2 && targetSize.every((n) => Number.isSafeInteger(n) && n > 0);
    if (!valid) throw new InvalidArgumentError(`targetSize must be [height, width] of positive integers, got ${JSON.stringify(targetSize)}.`);
    if (targetSize[0] * targetSize[1] > maxPixels) {
      throw new InvalidArgumentError(`targetSize ${targetSize[0]}×${targetSize[1]} exceeds maxPixels (${maxPixels}).`);
    }
  }
  return { targetSize, interpolation, maxPixels };
}

async function readInput(input: Buffer | Uint8Array | string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (error) {
      throw new ImageNotFoundError(input, { cause: error });
    }
  } else if (input instanceof Uint8Array) {
    bytes = input;
  } else {
    throw new InvalidArgumentError(`loadImage expects a Buffer, a Uint8Array or a file path, got ${describe(input)}.`);
  }
  if (bytes.length === 0) throw new EmptyImageError(typeof input === 'string' ? `image file '${input}'` : 'image');
  return bytes;
}

function identify(bytes: Uint8Array): SupportedImageFormat {
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new NotAnImageError(bytes.length);
  if (!isSupportedImageFormat(format)) throw new UnsupportedFormatError(format);
  return format;
}

/** Header only: no pixel buffer is allocated, so a 60,000² PNG costs nothing to refuse. */
async function readHeader(bytes: Uint8Array, format: SupportedImageFormat): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeFailure(error, bytes, format);
  }
  if (!(metadata.width > 0 && metadata.height > 0)) throw new CorruptImageError(format, 'the header has no image size');
  return metadata;
}

async function decodeRgb(
  bytes: Uint8Array,
  format: SupportedImageFormat,
  metadata: Metadata,
  maxPixels: number,
): Promise<Omit<DecodedImage, 'source'>> {
  const pipeline = sharp(bytes, {
    failOn: 'truncated', // the laxest level that still refuses a cut file; JPEG warnings PIL tolerates pass
    limitInputPixels: maxPixels, // second line of defence should the header have lied
    autoOrient: true,
    pages: 1,
    page: 0,
    ignoreIcc: metadata.space !== 'cmyk', // CMYK needs its profile to become RGB; see loadImage
  })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' });
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { data: toRgb(data, info.channels), width: info.width, height: info.height };
  } catch (error) {
    throw decodeFailure(error, bytes, format);
  }
}

/** libvips already gives 3 channels for sRGB output; this covers any 1- or 4-band leftovers. */
function toRgb(data: Buffer, channels: number): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (channels === 3) return view;
  const pixels = data.length / channels;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = view[p * channels + (channels < 3 ? 0 : c)]!;
  }
  return rgb;
}

async function resize(rgb: Omit<DecodedImage, 'source'>, width: number, height: number, interpolation: Interpolation): Promise<Uint8Array> {
  if (interpolation === 'nearest') return resizeNearest(rgb.data, rgb.width, rgb.height, 3, width, height);
  const { data } = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 }, limitInputPixels: false })
    .resize(width, height, { fit: 'fill', kernel: SHARP_KERNELS[interpolation] })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function decodeFailure(error: unknown, bytes: Uint8Array, format: SupportedImageFormat): HeadstartError {
  if (error instanceof HeadstartError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (TRUNCATION.test(message) || (format === 'png' && isTruncatedPng(bytes))) {
    return new TruncatedImageError(format, bytes.length, { cause: error });
  }
  // libvips can stack one line per retry; the last line is the decoder's own verdict.
  const detail = message.trim().split('\n').pop()!.trim();
  return new CorruptImageError(format, `the decoder refused it (${detail})`, { cause: error });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
