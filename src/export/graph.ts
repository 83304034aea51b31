import { tf } from '../engine/backend.js';
import { applyPreprocess, PREPROCESS_LAYER } from './preprocess-layer.js';
import type { ExportSource } from './source.js';

/** The exported graph's input and output names (the ONNX graph's value names, the TF.js model's layer names). */
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

/**
 * Base and head as one TF.js layers model of standard layers: RGB pixels [N, H, W, 3] (0–255, float32: TF.js
 * layers inputs are float) → preprocess_input as a fixed 1×1 Conv2D → the network → flattened features → the head
 * (its standardization and temperature already folded into its Dense layers) → probabilities [N, classes].
 * The model shares the source's layers and weights (only the preprocessing layer is new). `release()` frees what is
 * its own and hands the source's models back as they were (TF.js counts each call of a model on a symbolic input,
 * and disposing the outer model would free nested ones outright); then dispose the source as usual.
 */
export function mergedModel(source: ExportSource): { model: tf.LayersModel; release(): void } {
  const [height, width] = source.input.size;
  const input = tf.input({ shape: [height, width, 3], name: INPUT_NAME, dtype: 'float32' });
  let x = applyPreprocess(input, source.input.preprocess);
  x = source.network.apply(x) as tf.SymbolicTensor;
  if (source.head) {
    if (x.shape.length > 2) x = tf.layers.flatten({ name: 'features_flatten' }).apply(x) as tf.SymbolicTensor;
    x = source.head.apply(x) as tf.SymbolicTensor;
  }
  // A named no-op at the end, so both formats call the output 'probabilities' whatever the last layer was.
  const output = tf.layers.activation({ activation: 'linear', name: OUTPUT_NAME }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: `${source.model}_${source.kind}_export` });
  return {
    model,
    release: () => {
      model.getLayer(PREPROCESS_LAYER).dispose();
      // One dispose per call above: back to the source's own count, nothing freed.
      source.network.dispose();
      source.head?.dispose();
    },
  };
}
