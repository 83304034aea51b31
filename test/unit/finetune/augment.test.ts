import { describe, expect, it } from 'vitest';
import { augmentPixels, drawAugment, transformPixels, type AugmentDraw } from '../../../src/finetune/index.js';
import { mulberry32 } from '../../../src/heads/random.js';

const W = 6;
const H = 6;
/** Every pixel distinct: value encodes its position and channel. */
const pixels = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 7) % 251);
const at = (p: Uint8Array, y: number, x: number) => Array.from(p.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
const identity: AugmentDraw = { flip: false, zoom: 1, shiftX: 0, shiftY: 0, angle: 0 };

describe('transformPixels', () => {
  it('returns an exact copy for the identity, never the input itself', () => {
    const out = transformPixels(pixels, H, W, identity);
    expect(out).toEqual(pixels);
    expect(out).not.toBe(pixels);
  });

  it('mirrors left–right exactly', () => {
    const out = transformPixels(pixels, H, W, { ...identity, flip: true });
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect(at(out, y, x)).toEqual(at(pixels, y, W - 1 - x));
  });

  it('rotates a square image by 90° exactly (pixel centres map onto pixel centres)', () => {
    const out = transformPixels(pixels, H, W, { ...identity, angle: Math.PI / 2 });
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect(at(out, y, x)).toEqual(at(pixels, x, W - 1 - y));
  });

  it('zooms into a window that stays inside the image: corner shifts sample the corners', () => {
    const out = transformPixels(pixels, H, W, { ...identity, zoom: 2, shiftX: -1, shiftY: -1 });
    // Zoom 2 moved fully to the top-left: the output's top-left pixel reads the source's top-left.
    expect(at(out, 0, 0)).toEqual(at(pixels, 0, 0));
    const [min, max] = [Math.min(...pixels), Math.max(...pixels)];
    expect(out.every((v) => v >= min && v <= max)).toBe(true);
  });
});

describe('augmentPixels', () => {
  it('is seeded: the same stream gives the same image, and the input is left untouched', () => {
    const copy = pixels.slice();
    const options = { flip: true, zoom: 0.2, rotation: 15 };
    const a = augmentPixels(pixels, H, W, options, mulberry32(5));
    const b = augmentPixels(pixels, H, W, options, mulberry32(5));
    expect(a).toEqual(b);
    expect(pixels).toEqual(copy);
    expect(augmentPixels(pixels, H, W, options, mulberry32(6))).not.toEqual(a);
  });

  it('draws within the settings, five draws per image whatever they are', () => {
    const random = mulberry32(9);
    for (let i = 0; i < 200; i++) {
      const d = drawAugment({ flip: false, zoom: 0.1, rotation: 10 }, random);
      expect(d.flip).toBe(false);
      expect(d.zoom).toBeGreaterThanOrEqual(1);
      expect(d.zoom).toBeLessThanOrEqual(1.1);
      expect(Math.abs(d.angle)).toBeLessThanOrEqual((10 * Math.PI) / 180);
    }
    const [r1, r2] = [mulberry32(3), mulberry32(3)];
    drawAugment({ flip: true, zoom: 0, rotation: 0 }, r1);
    drawAugment({ flip: false, zoom: 0.5, rotation: 30 }, r2);
    expect(r1()).toBe(r2());
  });
});
