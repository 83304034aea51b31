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
}

/** The storage path segment of a namespace: `<model>@<weights-digest>/<layer>`. */
export function namespaceId(ns: FeatureNamespace): string {
  return `${ns.model}@${ns.weightsDigest}/${ns.layer}`;
}
