/** The engines a model can run on; 'auto' (engine.ts) picks one. */
export const ENGINE_NAMES = ['onnx', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What the model computes in: fp32, or the int8 graph quantized from it (ONNX Runtime only). */
export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Runs a feature model on batches of preprocessed images, whichever engine is underneath. */
export interface Extractor {
  readonly engine: EngineName;
  /** 'int8' for a quantized ONNX graph; 'fp32' otherwise. */
  readonly precision: Precision;
  /** [height, width] of the images the model takes. */
  readonly inputSize: [number, number];
  /** The per-image output shape (without the batch). */
  readonly outputShape: number[];
  /** Batches it runs side by side (ONNX Runtime sessions); absent means one at a time. */
  readonly sessions?: number;
  /** batch: float32 NHWC, already preprocessed, length N*H*W*3. Returns [N, ...outputShape] flattened. */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  /** Releases the engine's resources (the ORT session, and the TF.js model when the extractor owns it). */
  dispose(): void;
}
