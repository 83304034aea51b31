import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/features/backfill.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { makeJpeg } from '../helpers/images.js';

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('headstart extract on a local folder laid out like the bucket', () => {
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hs-extract-'));
    for (const label of ['cat', 'dog']) mkdirSync(join(root, 'images/toy', label), { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(root, 'images/toy', i % 2 ? 'cat' : 'dog', `${i}.jpg`), await makeJpeg(100 + i));
    writeFileSync(join(root, 'images/toy/dog/broken.jpg'), 'not a jpeg');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('extracts what lacks features, reports failures with a non-zero exit, and resumes without redoing work', async () => {
    const first = await run('extract', root, '--model', 'mobilenet_v2', '--weights', 'random', '--batch', '4', '--json');
    expect(first.code).toBe(1);
    const summary = JSON.parse(first.out);
    expect(summary).toMatchObject({ extracted: 6, failed: 1, retry: 0, alreadyDone: 0 });
    expect(summary.failures).toEqual([expect.objectContaining({ key: 'images/toy/dog/broken.jpg', code: 'NotAnImage' })]);

    const second = await run('extract', root, '--model', 'mobilenet_v2', '--weights', 'random', '--json');
    expect(JSON.parse(second.out)).toMatchObject({ extracted: 0, cached: 0, failed: 0, alreadyDone: 7 });
    expect(second.code).toBe(0);
  });

  it('splits the work of an array job by key hash, every image in exactly one shard', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `images/d/l/${i}.jpg`);
    const counts = [0, 0, 0];
    for (const key of keys) counts[shardOf(key, 3)]! += 1;
    expect(counts.reduce((a, b) => a + b)).toBe(200);
    for (const c of counts) expect(c).toBeGreaterThan(40);
    expect(shardOf('images/d/l/1.jpg', 3)).toBe(shardOf('images/d/l/1.jpg', 3));
  });

  it('refuses a folder without images/ and a shard out of range, saying what is expected', async () => {
    const bare = await run('extract', tmpdir(), '--model', 'mobilenet_v2');
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('<dir>/images/<dataset>/<label>/<file>');
    const shard = await run('extract', root, '--model', 'mobilenet_v2', '--weights', 'random', '--shards', '2', '--shard', '2');
    expect(shard.code).toBe(2);
    expect(shard.err).toContain('--shard 2 is out of range for --shards 2');
    const pooling = await run('extract', root, '--model', 'mobilenet_v2', '--pooling', 'mean');
    expect(pooling.code).toBe(2);
    expect(pooling.err).toContain("Unknown pooling 'mean': expected 'avg' or 'max'.");
  });
});
