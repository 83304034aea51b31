import type { tf } from '../engine/backend.js';
import { listValues } from '../errors.js';
import { UnfreezeSpecError } from './errors.js';
import type { UnfreezeSpec } from './types.js';

type Layer = tf.layers.Layer;

/** Which base layers train. Layer order is `base.layers` (topological, as Keras'). */
export interface UnfreezePlan {
  /** Index in `base.layers` of the first trainable layer (`base.layers.length` when only the head trains). */
  firstIndex: number;
  /** Its name, or null when only the head trains. */
  firstLayer: string | null;
  trainable: Layer[];
  frozen: Layer[];
}

/** How many example prefixes an error lists. */
const EXAMPLES = 8;
const SEPARATOR = /[_/.-]/;

/** `prefix` names a block of `name`: equal, or followed by a separator ('conv5' → 'conv5_block1_0_bn', not 'conv50'). */
function inBlock(name: string, prefix: string): boolean {
  if (name === prefix) return true;
  if (!name.startsWith(prefix)) return false;
  return SEPARATOR.test(prefix[prefix.length - 1]!) || SEPARATOR.test(name[prefix.length]!);
}

/**
 * Block prefixes a model's layer names suggest, in layer order: the name up to its first token with a
 * digit ('conv5_block16_1_conv' → 'conv5', 'block_16_expand' → 'block_16', 'mixed9_0' → 'mixed9').
 * Only prefixes shared by several layers: those are blocks.
 */
export function blockPrefixes(base: tf.LayersModel | readonly string[]): string[] {
  const names = 'layers' in base ? base.layers.map((l) => l.name) : base;
  const counts = new Map<string, number>();
  for (const name of names) {
    const tokens = name.split(SEPARATOR);
    const end = tokens.findIndex((t) => /\d/.test(t));
    if (end < 0) continue;
    const prefix = name.slice(0, tokens.slice(0, end + 1).join('_').length);
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([prefix]) => prefix);
}

/**
 * Where training starts in a base whose layers are `names` (in `model.layers` order): an exact layer
 * name wins (that layer and everything after it), else the first layer of the block `spec` names, else
 * `lastN` layers (the input layer never counts). Returns the index of the first trainable layer
 * (`names.length` when only the head trains). Throws UnfreezeSpecError listing valid prefixes.
 * Needs names only: the API checks a request with the zoo's BASE_LAYER_NAMES before any model loads.
 */
export function unfreezeIndex(names: readonly string[], spec: UnfreezeSpec, modelName: string): number {
  if (typeof spec === 'object' && spec !== null) {
    const max = names.length - 1;
    if (!Number.isInteger(spec.lastN) || spec.lastN < 0 || spec.lastN > max) {
      throw new UnfreezeSpecError(`unfreeze.lastN must be an integer from 0 to ${max} (the layers of ${modelName} after its input), got ${spec.lastN}.`);
    }
    return names.length - spec.lastN;
  }
  const exact = names.indexOf(spec);
  if (exact >= 0) return Math.max(exact, 1);
  const first = names.findIndex((name) => inBlock(name, spec));
  if (first >= 0) return first;
  const examples = blockPrefixes(names).slice(-EXAMPLES);
  throw new UnfreezeSpecError(
    `Unknown layer or block '${spec}' in ${modelName}: expected a layer name (model.layers lists them), a block prefix such as ` +
      `${listValues(examples)}, or { lastN: n } with 0 ≤ n ≤ ${names.length - 1}.`,
  );
}

/** Resolves an unfreeze spec against the base (see unfreezeIndex): which layers train and which stay frozen. */
export function resolveUnfreeze(base: tf.LayersModel, spec: UnfreezeSpec): UnfreezePlan {
  const firstIndex = unfreezeIndex(base.layers.map((l) => l.name), spec, base.name);
  return {
    firstIndex,
    firstLayer: base.layers[firstIndex]?.name ?? null,
    trainable: base.layers.slice(firstIndex),
    frozen: base.layers.slice(0, firstIndex),
  };
}
