import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { HeadstartError, InvalidArgumentError } from '../../../src/errors.js';
import {
  CorruptImageError,
  EmptyImageError,
  ImageNotFoundError,
  ImageTooLargeError,
  NotAnImageError,
  TruncatedImageError,
  UnsupportedFormatError,
} from '../../../src/image/errors.js';
import { loadImage, type LoadImageOptions } from '../../../src/image/load.js';
import { noisy, patternPng, pngHeaderOnly, solid } from './fixtures.js';

const SUPPORTED_LIST = "'jpeg', 'png', 'webp', 'gif', 'tiff' or 'avif'";

async function failure(input: Buffer | Uint8Array | string, options?: LoadImageOptions): Promise<HeadstartError> {
  const error = await loadImage(input, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HeadstartError);
  return error as HeadstartError;
}

describe('loadImage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'headstart-image-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('EmptyImage for zero bytes, from memory or from a file', async () => {
    const empty = join(dir, 'empty.jpg');
    writeFileSync(empty, '');

    const fromBytes = await failure(Buffer.alloc(0));
    const fromFile = await failure(empty);

    expect(fromBytes).toBeInstanceOf(EmptyImageError);
    expect(fromBytes.code).toBe('EmptyImage');
    expect(fromBytes.message).toContain(SUPPORTED_LIST);
    expect(fromFile.message).toContain(`'${empty}'`);
  });

  it('ImageNotFound for a missing path, with the cause kept', async () => {
    const error = await failure(join(dir, 'missing.png'));

    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect(error.code).toBe('ImageNotFound');
    expect(error.message).toMatch(/missing\.png': no such file/);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('NotAnImage for text and random bytes, naming the supported formats', async () => {
    for (const bytes of [Buffer.from('hello, this is not a picture'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])]) {
      const error = await failure(bytes);
      expect(error).toBeInstanceOf(NotAnImageError);
      expect(error.code).toBe('NotAnImage');
      expect(error.message).toBe(`The data (${bytes.length} bytes) is not an image: expected a ${SUPPORTED_LIST} file.`);
    }
  });

  it.each([
    ['svg', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>')],
    ['pdf', Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n')],
    ['heic', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(32)])],
    ['bmp', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])],
  ])('UnsupportedFormat for %s (refused before sharp renders it)', async (format, bytes) => {
    const error = await failure(bytes);

    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect(error.code).toBe('UnsupportedFormat');
    expect((error as UnsupportedFormatError).format).toBe(format);
    expect(error.message).toBe(`Image format '${format}' is not supported: expected ${SUPPORTED_LIST}. Convert it to one of these first.`);
  });

  it.each(['jpeg', 'png'] as const)('CorruptImage (TruncatedImageError) for a truncated %s, not a grey half picture', async (format) => {
    const whole = await noisy(format);
    // sharp with failOn 'none' would return a full-size image from these bytes: the check must be ours.
    const lenient = await sharp(whole.subarray(0, whole.length >> 1), { failOn: 'none' }).raw().toBuffer({ resolveWithObject: true });
    expect(lenient.info.width).toBe(64);

    for (const keep of [0.5, 0.9, 0.99]) {
      const cut = whole.subarray(0, Math.floor(whole.length * keep));
      const error = await failure(cut);
      expect(error).toBeInstanceOf(TruncatedImageError);
      expect(error).toBeInstanceOf(CorruptImageError);
      expect(error.code).toBe('CorruptImage');
      expect(error.message).toContain('truncated');
      expect(error.cause).toBeInstanceOf(Error);
    }
  });

  it('CorruptImage for damaged PNG data (bad checksums), not reported as truncation', async () => {
    const damaged = Buffer.from(await noisy('png'));
    // Inside the first IDAT's data: the chunk structure stays whole, its CRC and deflate stream do not.
    for (let i = 100; i < 200; i++) damaged[i]! ^= 0x5a;

    const error = await failure(damaged);

    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error).not.toBeInstanceOf(TruncatedImageError);
    expect(error.code).toBe('CorruptImage');
    expect(error.message).toMatch(/^The png image is corrupt: the decoder refused it \(.+\)\.$/);
  });

  it.each(['gif', 'webp', 'avif'] as const)('CorruptImage for a truncated %s', async (format) => {
    const whole = await solid(format, [1, 2, 3], 64);

    const error = await failure(whole.subarray(0, Math.floor(whole.length * 0.6)));

    expect(error.code).toBe('CorruptImage');
    expect(error).toBeInstanceOf(CorruptImageError);
  });

  it('ImageTooLarge for a 60000×60000 PNG header, refused before any pixel buffer exists', async () => {
    const header = pngHeaderOnly(60_000, 60_000);
    const before = process.memoryUsage().rss;

    const error = await failure(header);

    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.code).toBe('ImageTooLarge');
    expect(error).toMatchObject({ width: 60_000, height: 60_000, maxPixels: 100_000_000 });
    expect(error.message).toBe(
      'Image is 60000×60000 = 3600000000 pixels, over the limit of 100000000 pixels; resize it before uploading or raise maxPixels.',
    );
    // Decoding would need 10.8 GB; refusing from the header costs (almost) nothing.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('ImageTooLarge honours a custom maxPixels', async () => {
    const png = await patternPng(100, 60);

    const error = await failure(png, { maxPixels: 5_999 });
    const ok = await loadImage(png, { maxPixels: 6_000 });

    expect(error).toMatchObject({ code: 'ImageTooLarge', width: 100, height: 60, maxPixels: 5_999 });
    expect(ok.width).toBe(100);
  });

  it('InvalidArgument for bad options, listing valid values', async () => {
    const png = await patternPng(4, 4);

    const interpolation = await failure(png, { interpolation: 'hamming' as never });
    const size = await failure(png, { targetSize: [224, 0] });
    const pixels = await failure(png, { maxPixels: -1 });
    const input = await failure(42 as never);

    for (const error of [interpolation, size, pixels, input]) expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(interpolation.message).toBe("Unknown interpolation 'hamming': expected 'nearest', 'bilinear', 'bicubic' or 'lanczos'.");
    expect(size.message).toBe('targetSize must be [height, width] of positive integers, got [224,0].');
    expect(pixels.message).toBe('maxPixels must be a positive integer, got -1.');
    expect(input.message).toBe('loadImage expects a Buffer, a Uint8Array or a file path, got number.');
  });
});
