/**
 * Keras gives unnamed layers a per-session counter name (`conv2d_3`); TF.js keeps its own global,
 * process-wide counters, so a second build in the same process would get different names. Weights load
 * by layer name, so the zoo names every layer itself, with a fresh namer per build.
 *
 * Two Keras conventions exist, and the official weight files carry whichever was current when they
 * were written:
 * - `'keras2.0'` (standalone Keras 2.0/2.1, `K.get_uid`): 1-based, `conv2d_1`, `conv2d_2`, …
 *   InceptionV3's `inception_v3_weights_tf_dim_ordering_tf_kernels.h5` and DenseNet121's file use it.
 * - `'tf.keras'` (Keras 2.2+ in TensorFlow): 0-based, `conv2d`, `conv2d_1`, …
 * Input layers are `input_1` in both (tf.keras counts inputs from 1).
 */
export type NamingStyle = 'keras2.0' | 'tf.keras';

/** Returns the next auto name for a snake-cased Keras class name (`conv2d`, `batch_normalization`). */
export type AutoNamer = (prefix: string) => string;

export function createAutoNamer(style: NamingStyle): AutoNamer {
  const counts = new Map<string, number>();
  return (prefix) => {
    const seen = counts.get(prefix) ?? 0;
    counts.set(prefix, seen + 1);
    if (style === 'keras2.0') return `${prefix}_${seen + 1}`;
    return seen === 0 ? prefix : `${prefix}_${seen}`;
  };
}

/** The name Keras Applications' input layer has in a fresh Keras 2 session. */
export const INPUT_LAYER_NAME = 'input_1';
