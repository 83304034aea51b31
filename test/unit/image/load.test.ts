import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../../src/image/load.js';
import { pilNearestIndices } from '../../../src/image/resize.js';
import { photo, PHOTOS } from '../../helpers/fixtures.js';
import { coordinatePattern, patternPng, pixel, rawImage, solid } from './fixtures.js';

describe('loadImage: formats', () => {
  it.each([
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['webp', 'webp'],
    ['gif', 'gif'],
    ['tiff', 'tiff'],
    ['avif', 'avif'],
  ] as const)('decodes %s to RGB', async (format, expected) => {
    const bytes = await solid(format, [10, 100, 200]);

    const image = await loadImage(bytes);

    expect(image.source).toEqual({ format: expected, width: 8, height: 8 });
    expect([image.width, image.height, image.data.length]).toEqual([8, 8, 8 * 8 * 3]);
    // JPEG is lossy (and chroma-subsampled): allow a couple of levels; the others are exact.
    const [r, g, b] = pixel(image.data, 8, 3, 3);
    expect(Math.abs(r! - 10)).toBeLessThanOrEqual(2);
    expect(Math.abs(g! - 100)).toBeLessThanOrEqual(2);
    expect(Math.abs(b! - 200)).toBeLessThanOrEqual(2);
  });

  it('reads a file path as well as bytes', async () => {
    const path = photo('dog.jpg');

    const fromPath = await loadImage(path);
    const fromBytes = await loadImage(new Uint8Array(await readFile(path)));

    expect(fromPath.source).toEqual({ format: 'jpeg', width: 768, height: 576 });
    // Buffer.equals, not toEqual: a deep equal over 1.3 M elements takes seconds.
    expect(Buffer.from(fromPath.data).equals(fromBytes.data)).toBe(true);
  });

  it('returns a plain Uint8Array of exactly height × width × 3 bytes', async () => {
    const image = await loadImage(await patternPng(5, 4));

    expect(image.data).toBeInstanceOf(Uint8Array);
    expect(image.data.length).toBe(5 * 4 * 3);
    expect(pixel(image.data, 5, 4, 3)).toEqual([40, 30, 7]);
  });
});

describe('loadImage: pixel conventions (PIL convert("RGB"))', () => {
  it('drops alpha without compositing on a background', async () => {
    const rgba = new Uint8Array([255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 10, 20, 30, 0]);
    const png = await rawImage(rgba, 2, 2, 4).png().toBuffer();

    const image = await loadImage(png);

    // Fully transparent pixels keep their colour: PIL drops the band, it does not flatten onto white/black.
    expect(Array.from(image.data)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  });

  it('expands greyscale (and grey + alpha) to three equal channels', async () => {
    const grey = await rawImage(new Uint8Array([0, 50, 100, 200]), 2, 2, 1).toColourspace('b-w').png().toBuffer();
    const greyAlpha = await rawImage(new Uint8Array([0, 0, 50, 255, 100, 9, 200, 0]), 2, 2, 2).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    expect((await sharp(greyAlpha).metadata()).channels).toBe(2);

    for (const png of [grey, greyAlpha]) {
      const image = await loadImage(png);
      expect(Array.from(image.data)).toEqual([0, 0, 0, 50, 50, 50, 100, 100, 100, 200, 200, 200]);
    }
  });

  it('converts 16-bit samples to 8-bit by their high byte (RGB and grey)', async () => {
    const rgb16 = await sharp(new Uint16Array([0, 65535, 2570, 51400, 300, 65280, 256, 511, 4095, 32768, 32767, 1]), {
      raw: { width: 2, height: 2, channels: 3 },
    })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const grey16 = await sharp(new Uint16Array([0, 65535, 25700, 300]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await sharp(rgb16).metadata()).depth).toBe('ushort');

    expect(Array.from((await loadImage(rgb16)).data)).toEqual([0, 255, 10, 200, 1, 255, 1, 1, 15, 128, 127, 0]);
    expect(Array.from((await loadImage(grey16)).data)).toEqual([0, 0, 0, 255, 255, 255, 100, 100, 100, 1, 1, 1]);
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const cmyk = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 50, b: 20 } } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');

    const image = await loadImage(cmyk);

    expect(image.data.length).toBe(4 * 4 * 3);
    const [r, g, b] = pixel(image.data, 4, 1, 1);
    // A round trip through the CMYK profile is not exact (gamut, black generation), but the colour stays a strong orange-red.
    expect(r).toBeGreaterThan(185);
    expect(g).toBeGreaterThan(25);
    expect(g).toBeLessThan(70);
    expect(b).toBeLessThan(40);
  });

  it('ignores embedded ICC profiles, like PIL: the stored values reach the model', async () => {
    const p3 = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 200, g: 50, b: 20 } } })
      .withIccProfile('p3')
      .png()
      .toBuffer();
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();

    const image = await loadImage(p3);

    expect(Array.from(image.data.subarray(0, 3))).toEqual(Array.from(stored.subarray(0, 3)));
    expect(Array.from(image.data.subarray(0, 3))).not.toEqual([200, 50, 20]);
  });

  it('applies EXIF orientation 6: width and height swap and pixels rotate 90° clockwise', async () => {
    // 3 wide, 2 high: row 0 is [0, 10, 20] in red, row 1 is [0, 10, 20] with green 10.
    const pngRotated = await rawImage(coordinatePattern(3, 2), 3, 2, 3).png().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(pngRotated).metadata()).orientation).toBe(6);
    const jpeg = await rawImage(coordinatePattern(3, 2), 3, 2, 3).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();

    const png = await loadImage(pngRotated);
    const fromJpeg = await loadImage(jpeg);

    expect([png.width, png.height]).toEqual([2, 3]);
    expect(png.source).toEqual({ format: 'png', width: 2, height: 3 });
    // Rotated clockwise, new pixel (x, y) is old pixel (y, 1 - x).
    expect(Array.from(png.data)).toEqual([0, 10, 7, 0, 0, 7, 10, 10, 7, 10, 0, 7, 20, 10, 7, 20, 0, 7]);
    expect([fromJpeg.width, fromJpeg.height]).toEqual([2, 3]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const red = await solid('png', [255, 0, 0], 2);
    const blue = await solid('png', [0, 0, 255], 2);
    const gif = await sharp([red, blue], { join: { animated: true } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);

    const image = await loadImage(gif);

    expect([image.width, image.height]).toEqual([2, 2]);
    expect(Array.from(image.data)).toEqual([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]);
  });
});

describe('loadImage: resizing like Keras load_img', () => {
  it('resizes straight to [height, width] with PIL nearest by default', async () => {
    const png = await patternPng(7, 5);

    const image = await loadImage(png, { targetSize: [8, 10] });

    // PIL nearest: src = floor((dst + 0.5) * src_size / dst_size): x step 0.7 → [0,1,1,2,3,3,4,5,5,6],
    // y step 0.625 → floor(0.3125, 0.9375, 1.5625, 2.1875, 2.8125, 3.4375, 4.0625, 4.6875) = [0,0,1,2,2,3,4,4].
    const xs = [0, 1, 1, 2, 3, 3, 4, 5, 5, 6];
    const ys = [0, 0, 1, 2, 2, 3, 4, 4];
    expect([image.width, image.height]).toEqual([10, 8]);
    expect(image.source).toEqual({ format: 'png', width: 7, height: 5 });
    for (const [y, sy] of ys.entries()) {
      for (const [x, sx] of xs.entries()) expect(pixel(image.data, 10, x, y)).toEqual([sx * 10, sy * 10, 7]);
    }
  });

  it('downsamples with nearest by PIL’s rule too (no averaging)', async () => {
    const image = await loadImage(await patternPng(10, 9), { targetSize: [4, 3] });

    // x: 10/3 → floor(1.667, 5, 8.333) = [1, 5, 8]; y: 9/4 → floor(1.125, 3.375, 5.625, 7.875) = [1, 3, 5, 7].
    expect(Array.from({ length: 4 }, (_, y) => Array.from({ length: 3 }, (_, x) => pixel(image.data, 3, x, y)))).toEqual(
      [1, 3, 5, 7].map((sy) => [1, 5, 8].map((sx) => [sx * 10, sy * 10, 7])),
    );
  });

  it('leaves an image already at the target size untouched', async () => {
    const png = await patternPng(6, 4);

    const image = await loadImage(png, { targetSize: [4, 6], interpolation: 'bicubic' });

    expect(image.data).toEqual(coordinatePattern(6, 4));
  });

  it.each(['bilinear', 'bicubic', 'lanczos'] as const)('%s keeps a flat colour flat and a ramp monotonic', async (interpolation) => {
    const flat = await loadImage(await solid('png', [30, 60, 90], 40), { targetSize: [17, 23], interpolation });
    const ramp = await loadImage(await patternPng(20, 20), { targetSize: [7, 9], interpolation });

    expect(new Set(Array.from({ length: 17 * 23 }, (_, i) => flat.data.subarray(i * 3, i * 3 + 3).join()))).toEqual(new Set(['30,60,90']));
    const reds = Array.from({ length: 9 }, (_, x) => pixel(ramp.data, 9, x, 3)[0]!);
    expect(reds).toEqual([...reds].sort((a, b) => a - b));
    expect(reds[0]).toBeLessThan(30);
    expect(reds[8]).toBeGreaterThan(160);
  });

  it('bilinear averages where nearest picks: a 2× reduction of a checkerboard is grey, not one colour', async () => {
    const board = new Uint8Array(16 * 16 * 3).map((_, i) => {
      const p = Math.floor(i / 3);
      return ((p % 16) + Math.floor(p / 16)) % 2 === 0 ? 0 : 200;
    });
    const png = await rawImage(board, 16, 16, 3).png().toBuffer();

    const bilinear = await loadImage(png, { targetSize: [8, 8], interpolation: 'bilinear' });
    const nearest = await loadImage(png, { targetSize: [8, 8] });

    expect(Math.abs(bilinear.data[3 * 8 * 4 + 12]! - 100)).toBeLessThanOrEqual(2);
    // Nearest samples source pixels 1, 3, 5, ... on both axes: all the same square colour (aliasing, as PIL).
    expect(new Set(nearest.data)).toEqual(new Set([0]));
  });
});

describe('loadImage: the real photos in test/fixtures/images', () => {
  const photos = readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg'));

  it.each(photos)('decodes %s to 224×224 RGB', async (name) => {
    const path = photo(name);
    const full = await loadImage(path);

    const image = await loadImage(path, { targetSize: [224, 224] });

    expect([image.height, image.width, image.data.length]).toEqual([224, 224, 224 * 224 * 3]);
    expect(image.source).toEqual({ format: 'jpeg', width: full.width, height: full.height });
    // The nearest resize only picks pixels of the full decode, by PIL's rule: check the corners and a few inside.
    const xs = pilNearestIndices(full.width, 224);
    const ys = pilNearestIndices(full.height, 224);
    for (const [x, y] of [[0, 0], [223, 0], [0, 223], [223, 223], [3, 10], [111, 97]] as const) {
      expect(pixel(image.data, 224, x, y)).toEqual(pixel(full.data, full.width, xs[x]!, ys[y]!));
    }
    const mean = image.data.reduce((s, v) => s + v, 0) / image.data.length;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(235);
  });
});
