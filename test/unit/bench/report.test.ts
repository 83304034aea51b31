import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genericTable, loadBenchFinetune, toCell } from '../../../bench/finetune-table.js';
import { fileStamp, reportPath } from '../../../bench/report.js';

describe('report paths', () => {
  const date = new Date('2025-06-01T12:30:05.123Z');

  it('names the file after the run start, without colons', () => {
    expect(fileStamp(date)).toBe('2025-06-01T12-30-05Z');
    expect(reportPath('bench/results', date)).toBe(resolve('bench/results/2025-06-01T12-30-05Z.json'));
  });

  it('takes a .json --out as the file itself', () => {
    expect(reportPath('/tmp/run.json', date)).toBe('/tmp/run.json');
  });
});

describe('finetune rows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-finetune-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('shows any row objects as columns in first-seen order', () => {
    const table = genericTable([{ model: 'densenet121', imagesPerSecond: 1.5 }, { model: 'mobilenet_v2', note: { estimate: true } }]);
    expect(table.columns.map((c) => c.key)).toEqual(['model', 'imagesPerSecond', 'note']);
    expect(table.columns[1]).toEqual({ key: 'imagesPerSecond', label: 'img/s', digits: 2 });
    expect(table.rows[1]).toEqual({ model: 'mobilenet_v2', imagesPerSecond: null, note: '{"estimate":true}' });
    expect(toCell(undefined)).toBeNull();
  });

  it('is absent while the module does not exist', async () => {
    expect(await loadBenchFinetune(pathToFileURL(join(dir, 'missing.mjs')))).toBeUndefined();
  });

  it('loads benchFinetune when the module exports it, and refuses a module without it', async () => {
    const good = join(dir, 'good.mjs');
    const bad = join(dir, 'bad.mjs');
    await writeFile(good, 'export async function benchFinetune() { return [{ model: "x", imagesPerSecond: 2 }]; }\n');
    await writeFile(bad, 'export const other = 1;\n');
    const bench = await loadBenchFinetune(pathToFileURL(good));
    expect(await bench!()).toEqual([{ model: 'x', imagesPerSecond: 2 }]);
    await expect(loadBenchFinetune(pathToFileURL(bad))).rejects.toThrow(/does not export a benchFinetune\(\) function/);
  });
});
