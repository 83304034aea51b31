import { InvalidArgumentError, listValues } from '../errors.js';
import { tf } from './backend.js';
import { UnsupportedLayerError } from './onnx/errors.js';
import { createOnnxExtractor } from './onnx/extractor.js';
import { checkBatch, imageModelIO } from './onnx/io.js';
import { onnxRuntimeAvailable } from './onnx/runtime.js';

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
  /** Releases the engine's resources (the ORT session); the TF.js model stays its owner's. */
  dispose(): void;
}

export interface ExtractorOptions {
  /** 'auto' takes ONNX Runtime when onnxruntime-node loads and the model exports, else TF.js. @default HEADSTART_ENGINE or 'auto' */
  engine?: EngineName | 'auto';
  /** ORT threads per operator. @default ORT's choice (the physical cores) */
  intraOpThreads?: number;
  /** ORT execution providers, e.g. ['cuda', 'cpu']. @default ['cpu'] */
  executionProviders?: readonly string[];
  /** With `cacheKey`: the ONNX export is written once to `<cacheDir>/onnx/<cacheKey>.onnx` and reused. */
  cacheDir?: string;
  cacheKey?: string;
}

/** Runs the TF.js model itself (`predict` inside tidy): the reference for numbers. */
export class TfjsExtractor implements Extractor {
  readonly engine = 'tfjs' as const;
  readonly inputSize: [number, number];
  readonly outputShape: number[];

  /** The model stays the caller's: `dispose()` leaves it alone. */
  constructor(private readonly model: tf.LayersModel) {
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
    // Nothing of its own: predict's tensors are freed per run and the model is the caller's.
  }
}

const ENGINE_CHOICES = [...ENGINE_NAMES, 'auto'] as const;

/** Validates an engine name ('' and undefined mean 'auto'). */
export function parseEngine(name: string | undefined): EngineName | 'auto' {
  const engine = name === undefined || name === '' ? 'auto' : name;
  if (!(ENGINE_CHOICES as readonly string[]).includes(engine)) {
    throw new InvalidArgumentError(`Unknown engine '${engine}': expected ${listValues(ENGINE_CHOICES)}.`);
  }
  return engine as EngineName | 'auto';
}

/**
 * An extractor for a single-input image model ([null, H, W, 3], fixed size).
 * 'onnx' exports the model to ONNX (cached when cacheDir and cacheKey are given) and runs it in
 * ONNX Runtime; 'tfjs' runs the model as is; 'auto' prefers ONNX Runtime when onnxruntime-node loads
 * and falls back to TF.js when it does not or when the model holds layers the exporter cannot translate.
 * The TF.js model stays the caller's (an ONNX extractor no longer needs it).
 * @throws InvalidArgumentError for an unknown engine or a model that is not a fixed-size image model;
 *   with 'onnx', UnsupportedLayerError and EngineUnavailableError.
 */
export async function createExtractor(model: tf.LayersModel, options: ExtractorOptions = {}): Promise<Extractor> {
  const engine = parseEngine(options.engine ?? process.env.HEADSTART_ENGINE);
  const { engine: _engine, ...onnxOptions } = options;
  if (engine === 'tfjs') return new TfjsExtractor(model);
  if (engine === 'onnx') return createOnnxExtractor(model, onnxOptions);
  imageModelIO(model); // a bad model is the caller's error whatever the engine
  if (!(await onnxRuntimeAvailable())) return new TfjsExtractor(model);
  try {
    return await createOnnxExtractor(model, onnxOptions);
  } catch (error) {
    if (error instanceof UnsupportedLayerError) return new TfjsExtractor(model);
    throw error;
  }
}
