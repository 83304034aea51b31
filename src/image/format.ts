import { SUPPORTED_IMAGE_FORMATS, type SupportedImageFormat } from './errors.js';

/** Formats recognised by signature: the supported ones plus those refused with a clear message. */
export type ImageFormat = SupportedImageFormat | 'heic' | 'svg' | 'pdf' | 'bmp' | 'jp2' | 'jxl' | 'ico' | 'psd';

// ISO-BMFF (HEIF family) brands. AVIF files often list 'mif1' too, so AVIF brands are checked first.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);

const SIGNATURES: ReadonlyArray<[ImageFormat, number, readonly number[]]> = [
  ['jpeg', 0, [0xff, 0xd8, 0xff]],
  ['png', 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['gif', 0, ascii('GIF87a')],
  ['gif', 0, ascii('GIF89a')],
  ['tiff', 0, [0x49, 0x49, 0x2a, 0x00]],
  ['tiff', 0, [0x4d, 0x4d, 0x00, 0x2a]],
  ['tiff', 0, [0x49, 0x49, 0x2b, 0x00]], // BigTIFF
  ['tiff', 0, [0x4d, 0x4d, 0x00, 0x2b]],
  ['pdf', 0, ascii('%PDF-')],
  ['psd', 0, ascii('8BPS')],
  ['jp2', 0, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]],
  ['jp2', 0, [0xff, 0x4f, 0xff, 0x51]], // raw JPEG 2000 codestream
  ['jxl', 0, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]],
  ['jxl', 0, [0xff, 0x0a]],
  ['ico', 0, [0x00, 0x00, 0x01, 0x00]],
  ['bmp', 0, ascii('BM')],
];

/**
 * Identifies an image format from its leading bytes (magic numbers), without decoding. Returns
 * undefined for data that is not a recognised image. Used before sharp sees the bytes so that SVG/PDF
 * (which libvips would happily render) and HEIC are refused by name.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, 0, ascii('RIFF')) && startsWith(bytes, 8, ascii('WEBP'))) return 'webp';
  const bmff = sniffIsoBmff(bytes);
  if (bmff) return bmff;
  for (const [format, offset, signature] of SIGNATURES) {
    if (startsWith(bytes, offset, signature)) return format;
  }
  return looksLikeSvg(bytes) ? 'svg' : undefined;
}

export function isSupportedImageFormat(format: string): format is SupportedImageFormat {
  return (SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format);
}

/** An ISO base media file starts with an 'ftyp' box: size, 'ftyp', major brand, version, compatible brands. */
function sniffIsoBmff(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length < 16 || !startsWith(bytes, 4, ascii('ftyp'))) return undefined;
  const boxSize = Math.min(readUint32BE(bytes, 0), bytes.length);
  const brands = [latin1(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(latin1(bytes, at, at + 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  return undefined;
}

function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = latin1(bytes, 0, Math.min(bytes.length, 4096)).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}

function startsWith(bytes: Uint8Array, offset: number, signature: readonly number[]): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

function readUint32BE(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}
