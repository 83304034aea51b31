import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { loadCachedWeights, readCacheEntry } from '../../../src/weights/cache.js';
import { WeightsFormatError, WeightsMismatchError } from '../../../src/weights/errors.js';
import { importWeightsFor } from '../../../src/weights/import.js';
import { weightsDigest } from '../../../src/weights/weightsFile.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { outline, patternWeights, TINY_BASE_LAYERS, tinyModel, tinyTarget, writeKerasH5, writeTfjsFolder } from './fixtures.js';

let dir: string;
const withTop = patternWeights(tinyModel(), 20);
const noTop = withTop.slice(0, 3);

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'headstart-import-'));
  await writeKerasH5(join(dir, 'top.h5'), withTop);
  await writeKerasH5(join(dir, 'notop.h5'), noTop);
  await writeTfjsFolder(join(dir, 'tfjs-top'), withTop, { style: 'current', suffix: true });
  await writeKerasH5(join(dir, 'ten-classes.h5'), patternWeights(tinyModel({ classes: 10 }), 3));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const freshHome = () => mkdtemp(join(dir, 'home-'));

describe('importWeights', () => {
  it('detects a with-top .h5 file by its layer names and caches it as top', async () => {
    const home = await freshHome();
    const entry = await expectNoLeak(() => importWeightsFor(tinyTarget(), join(dir, 'top.h5'), { home }));
    expect(entry.variant).toBe('top');
    expect(entry.index).toMatchObject({ digest: weightsDigest(withTop), layers: 5, source: { fileName: 'top.h5', path: join(dir, 'top.h5') } });
    expect(entry.index.source.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(outline(await loadCachedWeights(entry))).toEqual(outline(withTop));
  });

  it('detects a no-top .h5 file and caches it as notop', async () => {
    const home = await freshHome();
    const entry = await importWeightsFor(tinyTarget(), join(dir, 'notop.h5'), { home });
    expect(entry.variant).toBe('notop');
    expect(entry.index.digest).toBe(weightsDigest(noTop));
    expect(await readCacheEntry('tiny', 'top', home)).toBeUndefined();
  });

  it('imports a TF.js folder; the same weights give the same digest as from .h5', async () => {
    const home = await freshHome();
    const entry = await importWeightsFor(tinyTarget(), join(dir, 'tfjs-top'), { home });
    expect(entry.variant).toBe('top');
    expect(entry.index.digest).toBe(weightsDigest(withTop));
    expect(entry.index.source.md5).toBeUndefined();
  });

  it('with includeTop false keeps only the base layers of a with-top file', async () => {
    const home = await freshHome();
    const entry = await importWeightsFor(tinyTarget(), join(dir, 'top.h5'), { home, includeTop: false });
    expect(entry.variant).toBe('notop');
    expect((await loadCachedWeights(entry)).map((l) => l.layer)).toEqual(TINY_BASE_LAYERS);
  });

  it('refuses a with-top file whose classifier does not fit, suggesting the base only; caches nothing', async () => {
    const home = await freshHome();
    const error = await importWeightsFor(tinyTarget(), join(dir, 'ten-classes.h5'), { home }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsMismatchError);
    expect((error as Error).message).toBe(
      "Layer 'predictions' weight 'kernel': model expects [5,2], file has [5,10]. To load only the base of 'tiny', use includeTop false (--no-top).",
    );
    expect(await readCacheEntry('tiny', 'top', home)).toBeUndefined();
    expect(await readCacheEntry('tiny', 'notop', home)).toBeUndefined();
  });

  it('refuses includeTop true for a no-top file, naming the missing layer', async () => {
    const home = await freshHome();
    await expect(importWeightsFor(tinyTarget(), join(dir, 'notop.h5'), { home, includeTop: true })).rejects.toThrow(
      /^Layer 'fc1' of model 'tiny' has no weights in the file; the file has 'conv1\/conv', 'conv1\/bn', 'block1_conv1'\. To load only the base/,
    );
  });

  it('refuses a path that is neither a file nor a folder', async () => {
    await expect(importWeightsFor(tinyTarget(), join(dir, 'nothing.h5'), { home: await freshHome() })).rejects.toBeInstanceOf(WeightsFormatError);
  });
});
