// Small images generated with sharp, so that every pixel a test asserts is known.
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/** RGB bytes where pixel (x, y) is [x * 10, y * 10, 7]: every pixel says where it came from. */
export function coordinatePattern(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x * 10, y * 10, 7], (y * width + x) * 3);
  }
  return data;
}

export function rawImage(data: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4): Sharp {
  return sharp(data, { raw: { width, height, channels } });
}

export async function patternPng(width: number, height: number): Promise<Buffer> {
  return rawImage(coordinatePattern(width, height), width, height, 3).png().toBuffer();
}

export async function solid(format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif', rgb: [number, number, number], size = 8): Promise<Buffer> {
  const image = sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  const lossless = format === 'webp' || format === 'avif' ? { lossless: true } : {};
  return image.toFormat(format, lossless).toBuffer();
}

/** A noisy picture compresses poorly, so cutting its file leaves real pixel data missing. */
export async function noisy(format: 'jpeg' | 'png', size = 64): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .toFormat(format)
    .toBuffer();
}

/**
 * A PNG that is only a header: valid signature, an IHDR claiming width × height RGB, a tiny IDAT and IEND.
 * Decoding it would need width × height × 3 bytes; a loader must refuse it from the header.
 */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(16))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** Pixel (x, y) of an HWC RGB buffer. */
export function pixel(data: Uint8Array, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 3;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}
