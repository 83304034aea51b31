import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../../errors.js';
import type { Extractor, Precision } from '../types.js';
import { exportCached } from './cache.js';
import { OnnxModelError } from './errors.js';
import { exportToOnnx } from './export.js';
import { checkBatch, imageModelIO, nhwcToNchw } from './io.js';
import { OnnxModel, type OnnxSessionOptions } from './session.js';

export interface OnnxExtractorSettings {
  inputSize: [number, number];
  outputShape: number[];
  /** Layout of the model's input; NHWC batches are transposed for NCHW models. @default 'NHWC' */
  inputLayout?: 'NHWC' | 'NCHW';
  /** The output to read. @default the first */
  outputName?: string;
  /** What the graph computes in. @default 'fp32' */
  precision?: Precision;
  /** A batch size fixed in the model's input; batches are run in chunks of it (the last one zero-padded). */
  fixedBatch?: number;
}

/** An Extractor over an ONNX Runtime session; owns the session. */
export class OnnxExtractor implements Extractor {
  readonly engine = 'onnx' as const;
  readonly precision: Precision;
  readonly inputSize: [number, number];
  readonly outputShape: number[];
  private readonly featureSize: number;

  constructor(
    private readonly model: OnnxModel,
    private readonly settings: OnnxExtractorSettings,
  ) {
    this.precision = settings.precision ?? 'fp32';
    this.inputSize = settings.inputSize;
    this.outputShape = settings.outputShape;
    this.featureSize = settings.outputShape.reduce((a, b) => a * b, 1);
  }

  get sessions(): number {
    return this.model.sessions;
  }

  async run(batch: Float32Array, n: number): Promise<Float32Array> {
    checkBatch(batch, n, this.inputSize);
    const chunk = this.settings.fixedBatch ?? n;
    if (chunk === n) return this.runChunk(batch, n);
    const imageSize = batch.length / n;
    const out = new Float32Array(n * this.featureSize);
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const padded = new Float32Array(chunk * imageSize);
      padded.set(batch.subarray(start * imageSize, (start + count) * imageSize));
      const features = await this.runChunk(padded, chunk);
      out.set(features.subarray(0, count * this.featureSize), start * this.featureSize);
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }

  private async runChunk(batch: Float32Array, n: number): Promise<Float32Array> {
    const [h, w] = this.inputSize;
    const nchw = this.settings.inputLayout === 'NCHW';
    const input = nchw ? nhwcToNchw(batch, n, h, w, 3) : batch;
    const { data, shape } = await this.model.run(input, nchw ? [n, 3, h, w] : [n, h, w, 3], this.settings.outputName);
    if (data.length !== n * this.featureSize) {
      throw new OnnxModelError(
        `${this.model.source} returned shape [${shape.join(', ')}] for ${n} image(s); expected [${n}, ${this.outputShape.join(', ')}].`,
      );
    }
    return data;
  }
}

export interface OnnxExtractorOptions extends OnnxSessionOptions {
  /** With `cacheKey`: export once to `<cacheDir>/onnx/<cacheKey>.onnx` and reuse it. */
  cacheDir?: string;
  cacheKey?: string;
}

/**
 * Exports a TF.js image model to ONNX (through the cache when given one) and opens it in ONNX Runtime.
 * The TF.js model stays the caller's: it is not needed afterwards and may be disposed.
 */
export async function createOnnxExtractor(model: tf.LayersModel, options: OnnxExtractorOptions = {}): Promise<OnnxExtractor> {
  const io = imageModelIO(model);
  const { cacheDir, cacheKey, ...session } = options;
  if ((cacheDir === undefined) !== (cacheKey === undefined)) {
    throw new InvalidArgumentError('cacheDir and cacheKey go together: give both to cache the ONNX export, or neither.');
  }
  const source = cacheDir !== undefined && cacheKey !== undefined ? (await exportCached(model, { cacheDir, key: cacheKey })).path : exportToOnnx(model);
  return new OnnxExtractor(await OnnxModel.create(source, session), io);
}
