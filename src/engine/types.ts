/** The engines a model can run on; 'auto' (engine.ts) picks one. */
export const ENGINE_NAMES = ['onnx', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Runs a feature model on batches of preprocessed images, whichever engine is underneath. */
export interface Extractor {
  readonly engine: EngineName;
  /** [height, width] of the images the model takes. */
  readonly inputSize: [number, number];
  /** The per-image output shape (without the batch). */
  readonly outputShape: number[];
  /** batch: float32 NHWC, already preprocessed, length N*H*W*3. Returns [N, ...outputShape] flattened. */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  /** Releases the engine's resources (the ORT session, and the TF.js model when the extractor owns it). */
  dispose(): void;
}
