import { describe, expect, it } from 'vitest';
import { describeMix, loadBenchImages, preprocessBatches } from '../../../bench/images.js';
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

  it('refuses to invent images the folder does not hold', async () => {
    const error = await loadBenchImages(100_000, FIXTURES).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/Asked for 100000 bench images; .* holds 316\./);
  });
});
