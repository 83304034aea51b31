import { tf } from './backend.js';
import { checkBatch, imageModelIO } from './onnx/io.js';
import type { Extractor } from './types.js';

/** Runs the TF.js model itself (`predict` inside tidy): the reference for numbers. */
export class TfjsExtractor implements Extractor {
  readonly engine = 'tfjs' as const;
  readonly precision = 'fp32' as const;
  readonly inputSize: [number, number];
  readonly outputShape: number[];

  /**
   * The model stays the caller's unless `owned` is given: then `dispose()` disposes that (the model, or the
   * model it was cut from, whose layers it shares).
   */
  constructor(
    private readonly model: tf.LayersModel,
    private readonly owned?: { dispose(): void },
  ) {
    ({ inputSize: this.inputSize, outputShape: this.outputShape } = imageModelIO(model));
  }

  async run(batch: Float32Array, n: number): Promise<Float32Array> {
    checkBatch(batch, n, this.inputSize);
    const [h, w] = this.inputSize;
    const output = tf.tidy(() => this.model.predict(tf.tensor4d(batch, [n, h, w, 3])) as tf.Tensor);
    try {
      return (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
  }

  dispose(): void {
    // predict's tensors are freed per run; the model goes only when it was handed over.
    this.owned?.dispose();
  }
}
