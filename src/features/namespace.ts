import type { Precision } from '../engine/types.js';
import type { Interpolation, Pooling, PreprocessMode } from '../zoo/types.js';

/** Everything that decides a feature's value: two extractions with equal namespaces give equal features. */
export interface FeatureNamespace {
  model: string;
  weightsDigest: string;
  layer: string;
  pooling: Pooling | null;
  preprocess: PreprocessMode;
  inputSize: [number, number];
  interpolation: Interpolation;
  /** What the model computes; a file may store it as float16 (its own metadata says so). */
  dtype: 'float32';
  /** 'int8' when the features come from the int8 graph quantized from the fp32 one; absent means fp32. */
  precision?: Precision;
}

/**
 * The storage path segment of a namespace: `<model>@<weights-digest>/<layer>`, and `<layer>@int8` for int8
 * features, a sibling that is never mixed with the fp32 ones (no prefix of one lists the other).
 */
export function namespaceId(ns: FeatureNamespace): string {
  return `${ns.model}@${ns.weightsDigest}/${ns.layer}${ns.precision === 'int8' ? '@int8' : ''}`;
}

/** The precision of a namespace (absent: fp32, as every namespace recorded before int8 existed). */
export function precisionOf(ns: Pick<FeatureNamespace, 'precision'>): Precision {
  return ns.precision ?? 'fp32';
}
