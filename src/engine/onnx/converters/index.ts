import { activationConverters } from './activation.js';
import { convConverters } from './conv.js';
import { coreConverters } from './core.js';
import { mergeConverters } from './merge.js';
import { normalizationConverters } from './normalization.js';
import { poolingConverters } from './pooling.js';
import type { LayerConverter } from './types.js';

/** Every TF.js layer class the exporter translates, by `getClassName()`. */
export const CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  ...convConverters,
  ...poolingConverters,
  ...normalizationConverters,
  ...coreConverters,
  ...activationConverters,
  ...mergeConverters,
};

export const SUPPORTED_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(CONVERTERS)].sort();

export type { LayerConverter } from './types.js';
