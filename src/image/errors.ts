import { HeadstartError, listValues } from '../errors.js';

/** The formats `loadImage` decodes (sharp's prebuilt libvips, first frame/page only). */
export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type SupportedImageFormat = (typeof SUPPORTED_IMAGE_FORMATS)[number];

const SUPPORTED = listValues(SUPPORTED_IMAGE_FORMATS);

/** Zero bytes: usually a placeholder object or an upload that never got its body. */
export class EmptyImageError extends HeadstartError {
  constructor(source = 'image') {
    super('EmptyImage', `The ${source} is empty (0 bytes); expected a ${SUPPORTED} file.`);
  }
}

/** A path that does not exist or cannot be read. */
export class ImageNotFoundError extends HeadstartError {
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super('ImageNotFound', `Cannot read image file '${path}': ${describeCause(options?.cause)}.`, options);
    this.path = path;
  }
}

/** Bytes that match no image signature we know (text, an archive, random data). */
export class NotAnImageError extends HeadstartError {
  constructor(bytes: number) {
    super('NotAnImage', `The data (${bytes} bytes) is not an image: expected a ${SUPPORTED} file.`);
  }
}

/** A recognised image format that headstart does not decode (SVG, PDF, HEIC, BMP, ...). */
export class UnsupportedFormatError extends HeadstartError {
  readonly format: string;

  constructor(format: string, reason?: string) {
    super(
      'UnsupportedFormat',
      `Image format '${format}' is not supported${reason ? ` (${reason})` : ''}: expected ${SUPPORTED}. Convert it to one of these first.`,
    );
    this.format = format;
  }
}

/** Pixel data the decoder rejects: damaged bytes, bad checksums, impossible headers. */
export class CorruptImageError extends HeadstartError {
  readonly format: string;

  constructor(format: string, detail: string, options?: { cause?: unknown }) {
    super('CorruptImage', `The ${format} image is corrupt: ${detail}.`, options);
    this.format = format;
  }
}

/**
 * The file ends before its pixel data does (an interrupted upload or copy). Refused rather than decoded
 * as a partly grey picture, like PIL without LOAD_TRUNCATED_IMAGES. Same code as CorruptImageError.
 */
export class TruncatedImageError extends CorruptImageError {
  constructor(format: string, bytes: number, options?: { cause?: unknown }) {
    super(format, `the file is truncated (its ${bytes} bytes end before the image data does); upload it again`, options);
  }
}

/** More input pixels than allowed, decided from the header before any pixel buffer is allocated. */
export class ImageTooLargeError extends HeadstartError {
  readonly width: number;
  readonly height: number;
  readonly maxPixels: number;

  constructor(width: number, height: number, maxPixels: number) {
    super(
      'ImageTooLarge',
      `Image is ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} pixels; resize it before uploading or raise maxPixels.`,
    );
    this.width = width;
    this.height = height;
    this.maxPixels = maxPixels;
  }
}

function describeCause(cause: unknown): string {
  if (cause && typeof cause === 'object' && 'code' in cause && cause.code === 'ENOENT') return 'no such file';
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
