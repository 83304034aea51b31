import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { BASE_LAYER_NAMES } from '../../../src/zoo/layer-names.js';
import { MODEL_IDS } from '../../../src/zoo/index.js';
import { baseLayerNamesFromBuilders } from '../../helpers/gen-layer-names.js';

beforeAll(async () => {
  await initBackend();
});

describe('BASE_LAYER_NAMES', () => {
  it('is what the builders make, model by model (regenerate with test/helpers/gen-layer-names.ts when a builder changes)', () => {
    const built = baseLayerNamesFromBuilders();
    expect(Object.keys(BASE_LAYER_NAMES).sort()).toEqual([...MODEL_IDS].sort());
    for (const id of MODEL_IDS) expect(BASE_LAYER_NAMES[id], id).toEqual(built[id]);
    // Keras' names at the ends of two bases, as the unfreeze specs in the docs use them.
    expect(BASE_LAYER_NAMES.densenet121.at(-1)).toBe('avg_pool');
    expect(BASE_LAYER_NAMES.mobilenet_v2).toContain('block_16_expand');
  }, 120_000);
});
