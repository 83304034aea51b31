import type * as tf from '@tensorflow/tfjs';
import { canonicalWeights, planWeights, type WeightsPlan } from './apply.js';
import { WeightsMismatchError } from './errors.js';
import type { WeightsTarget } from './target.js';
import type { LayerWeights } from './types.js';

export interface FittedWeights {
  includeTop: boolean;
  /** The source restricted to the model's layers, with the model's names (what is cached). */
  weights: LayerWeights;
}

/**
 * Checks `source` against freshly built models of `target` and decides whether it is a with-top or a
 * no-top file. `includeTop` given: that variant must fit. Not given: the base must fit; the file is
 * with-top when it also holds every layer the top adds, and then the top must fit too (a 10-class
 * head in the 1000-class slot is an error, not a silent no-top import).
 */
export function fitWeights(target: WeightsTarget, source: LayerWeights, includeTop?: boolean): FittedWeights {
  if (includeTop !== undefined) {
    return { includeTop, weights: canonicalWeights(withModel(target, includeTop, (model) => plan(target, model, source, { hint: includeTop }))) };
  }
  const base = canonicalWeights(withModel(target, false, (model) => plan(target, model, source, {})));
  // Only the base's layers in the file: a no-top file, no need to build the (large) top model.
  if (base.length === source.length) return { includeTop: false, weights: base };
  const top = withModel(target, true, (model) => plan(target, model, source, { hint: true, skipMissing: true }));
  if (top.skipped.length > 0) return { includeTop: false, weights: base };
  return { includeTop: true, weights: canonicalWeights(top) };
}

/** planWeights with the target's aliases; on a with-top model a mismatch suggests loading the base only. */
function plan(target: WeightsTarget, model: tf.LayersModel, source: LayerWeights, options: { hint?: boolean; skipMissing?: boolean }): WeightsPlan {
  try {
    return planWeights(model, source, { aliases: target.aliases, skipMissing: options.skipMissing });
  } catch (error) {
    if (!(error instanceof WeightsMismatchError) || !options.hint) throw error;
    throw new WeightsMismatchError(`${error.message} To load only the base of '${target.id}', use includeTop false (--no-top).`, error, { cause: error });
  }
}

function withModel<T>(target: WeightsTarget, includeTop: boolean, fn: (model: tf.LayersModel) => T): T {
  const model = target.build(includeTop);
  try {
    return fn(model);
  } finally {
    model.dispose();
  }
}
