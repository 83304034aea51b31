import { describe, expect, it } from 'vitest';
import { isSupportedImageFormat, sniffImageFormat } from '../../../src/image/format.js';
import { isTruncatedPng } from '../../../src/image/png.js';
import { noisy, solid } from './fixtures.js';

const ftyp = (major: string, ...compatible: string[]): Buffer => {
  const body = Buffer.from(`ftyp${major}\0\0\0\0${compatible.join('')}`, 'latin1');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length + 4);
  return Buffer.concat([size, body, Buffer.alloc(16)]);
};

describe('sniffImageFormat', () => {
  it.each(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const)('recognises %s written by sharp', async (format) => {
    expect(sniffImageFormat(await solid(format, [1, 2, 3]))).toBe(format);
  });

  it.each([
    ['avif', ftyp('avif', 'mif1', 'miaf')],
    ['avif', ftyp('mif1', 'avif')], // brand only among the compatible ones
    ['avif', ftyp('avis', 'msf1')],
    ['heic', ftyp('heic', 'mif1')],
    ['heic', ftyp('mif1', 'heic')],
    [undefined, ftyp('isom', 'mp41')], // an MP4 video is not an image
    ['tiff', Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8])],
    ['tiff', Buffer.from([0x49, 0x49, 0x2b, 0x00, 8, 0, 0, 0])], // BigTIFF
    ['svg', Buffer.from('\uFEFF  <svg xmlns="http://www.w3.org/2000/svg"></svg>')],
    ['svg', Buffer.from('<?xml version="1.0"?><!DOCTYPE svg><svg width="1"/>')],
    [undefined, Buffer.from('<html><body>no</body></html>')],
    ['pdf', Buffer.from('%PDF-1.4')],
    ['bmp', Buffer.from('BM\0\0\0\0')],
    ['psd', Buffer.from('8BPS\0\x01')],
    ['jxl', Buffer.from([0xff, 0x0a, 0, 0])],
    ['jp2', Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a])],
    ['ico', Buffer.from([0, 0, 1, 0, 1, 0])],
    [undefined, Buffer.from([0xff, 0xd8])], // too short for a JPEG signature
    [undefined, Buffer.alloc(0)],
  ])('identifies %s from its signature', (expected, bytes) => {
    expect(sniffImageFormat(bytes)).toBe(expected);
  });

  it('works on a Uint8Array view into a larger buffer', async () => {
    const png = await solid('png', [1, 2, 3]);
    const padded = new Uint8Array(png.length + 10);
    padded.set(png, 10);

    expect(sniffImageFormat(padded.subarray(10))).toBe('png');
  });

  it('knows which formats are supported', () => {
    expect(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'].every(isSupportedImageFormat)).toBe(true);
    expect(['heic', 'svg', 'pdf', 'bmp', 'raw'].some(isSupportedImageFormat)).toBe(false);
  });
});

describe('isTruncatedPng', () => {
  it('is false for a whole PNG and true for any cut through its chunks', async () => {
    const png = await noisy('png', 32);

    expect(isTruncatedPng(png)).toBe(false);
    for (const keep of [9, 20, 40, png.length >> 1, png.length - 1]) expect(isTruncatedPng(png.subarray(0, keep))).toBe(true);
  });
});
