import { describe, expect, it } from 'vitest';
import { describeMix, loadBenchImages, preprocessBatches, withMarker } from '../../../bench/images.js';
import { loadImage } from '../../../src/image/load.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { FIXTURES } from '../../helpers/fixtures.js';

// The bench reads ../shared; a folder laid out the same way (the project's fixtures) stands in for it here.

describe('bench images', () => {
  it('gives the photos and their resized copies first, then fashion-mnist PNGs across labels', async () => {
    const images = await loadBenchImages(20, FIXTURES);
    expect(images).toHaveLength(20);
    expect(images.slice(0, 16).every((i) => i.format === 'jpeg' && i.label === 'photo')).toBe(true);
    expect(images.slice(0, 4).map((i) => i.name)).toEqual(['baboon.jpg', 'baboon-224w.jpg', 'baboon-448w.jpg', 'baboon-1024w.jpg']);
    expect(new Set(images.slice(16).map((i) => i.label)).size).toBe(4);
    expect(describeMix(images)).toBe('16 JPEG (224–1024 px wide), 4 PNG (28×28)');
  });

  it('preprocesses into batches the way the pipeline does', async () => {
    const images = await loadBenchImages(10, FIXTURES);
    const batches = await preprocessBatches(images, [32, 32], 'tf', 8);
    expect(batches.map((b) => b.n)).toEqual([8, 2]);
    expect(batches[1]!.batch).toHaveLength(2 * 32 * 32 * 3);
    expect(Math.min(...batches[0]!.batch)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...batches[0]!.batch)).toBeLessThanOrEqual(1);
  });

  it('marks an image with new bytes that decode to the same pixels (JPEG and PNG)', async () => {
    const images = await loadBenchImages(17, FIXTURES);
    for (const image of [images[1]!, images[16]!]) {
      const marked = withMarker(image, 'pass 2');
      expect(marked.bytes.equals(image.bytes)).toBe(false);
      expect(marked.bytes.includes(Buffer.from('pass 2'))).toBe(true);
      const [before, after] = await Promise.all([loadImage(image.bytes), loadImage(marked.bytes)]);
      expect([after.width, after.height, after.source.format]).toEqual([before.width, before.height, image.format]);
      expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true);
    }
  });

  it('refuses to invent images the folder does not hold', async () => {
    const error = await loadBenchImages(100_000, FIXTURES).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/Asked for 100000 bench images; .* holds 316\./);
  });
});
