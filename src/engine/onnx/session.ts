import { stat } from 'node:fs/promises';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { InvalidArgumentError, listValues } from '../../errors.js';
import { EngineUnavailableError, OnnxModelError } from './errors.js';
import { loadOnnxRuntime, type OnnxRuntime } from './runtime.js';

export interface OnnxSessionOptions {
  /** Threads for one operator (ORT intra_op_num_threads). @default ORT's choice: the physical cores */
  intraOpThreads?: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu']. @default ['cpu'] */
  executionProviders?: readonly string[];
}

/** A model input or output as ONNX Runtime reports it; dynamic dims are names (e.g. 'N'). */
export interface OnnxTensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

export interface OnnxRunResult {
  data: Float32Array;
  shape: number[];
}

function checkOptions(ort: OnnxRuntime, options: OnnxSessionOptions): void {
  const { intraOpThreads, executionProviders } = options;
  if (intraOpThreads !== undefined && !(Number.isInteger(intraOpThreads) && intraOpThreads > 0)) {
    throw new InvalidArgumentError(`intraOpThreads must be a positive integer, got ${intraOpThreads}.`);
  }
  const known = ort.listSupportedBackends().map((b) => b.name);
  const unknown = (executionProviders ?? []).filter((ep) => !known.includes(ep));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`Unknown execution provider(s) ${listValues(unknown)}: expected ${listValues(known)}.`);
  }
}

async function checkFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new InvalidArgumentError(`ONNX model file not found: ${path}`);
}

function tensorInfo(meta: InferenceSession.ValueMetadata): OnnxTensorInfo {
  return meta.isTensor ? { name: meta.name, type: meta.type, shape: meta.shape } : { name: meta.name, type: 'non-tensor', shape: [] };
}

/**
 * An ONNX model loaded in ONNX Runtime (CPU by default). One input, float32; `run` returns one
 * output. Owns a native session: call `dispose()` when done.
 */
export class OnnxModel {
  private disposed = false;

  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: InferenceSession,
    /** The file path, or a description of the bytes, for error messages. */
    readonly source: string,
  ) {}

  /**
   * Loads a model from its bytes or an .onnx path.
   * @throws InvalidArgumentError for a missing file or bad options, OnnxModelError when ORT rejects the model,
   *   EngineUnavailableError when onnxruntime-node (or the asked execution provider) is not available.
   */
  static async create(model: Uint8Array | string, options: OnnxSessionOptions = {}): Promise<OnnxModel> {
    const ort = await loadOnnxRuntime();
    checkOptions(ort, options);
    const source = typeof model === 'string' ? model : `<${model.byteLength} bytes>`;
    if (typeof model === 'string') await checkFile(model);
    const sessionOptions: InferenceSession.SessionOptions = {
      executionProviders: [...(options.executionProviders ?? ['cpu'])],
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    };
    try {
      const session =
        typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
      return new OnnxModel(ort, session, source);
    } catch (cause) {
      const message = (cause as Error).message;
      if (options.executionProviders?.some((ep) => ep !== 'cpu' && message.includes(ep))) {
        throw new EngineUnavailableError(`ONNX Runtime could not start execution providers ${listValues(options.executionProviders)}: ${message}`, { cause });
      }
      throw new OnnxModelError(`ONNX Runtime could not load the model ${source}: ${message}`, { cause });
    }
  }

  get inputs(): OnnxTensorInfo[] {
    return this.session.inputMetadata.map(tensorInfo);
  }

  get outputs(): OnnxTensorInfo[] {
    return this.session.outputMetadata.map(tensorInfo);
  }

  /**
   * Runs the model on one float32 tensor. `outputName` defaults to the first output.
   * The returned data is a fresh array the caller owns.
   * @throws InvalidArgumentError when the data does not fill `shape` or `shape` does not fit the model's input.
   */
  async run(input: Float32Array, shape: readonly number[], outputName?: string): Promise<OnnxRunResult> {
    if (this.disposed) throw new InvalidArgumentError(`The ONNX model ${this.source} was disposed.`);
    const [spec] = this.inputs;
    this.checkInput(spec, input, shape);
    const output = outputName ?? this.session.outputNames[0];
    if (!this.session.outputNames.includes(output)) {
      throw new InvalidArgumentError(`Unknown output '${output}': expected ${listValues(this.session.outputNames)}.`);
    }
    let result: Tensor;
    try {
      const feeds = { [spec.name]: new this.ort.Tensor('float32', input, [...shape]) };
      result = (await this.session.run(feeds, [output]))[output] as Tensor;
    } catch (cause) {
      throw new OnnxModelError(`ONNX Runtime failed to run ${this.source}: ${(cause as Error).message}`, { cause });
    }
    if (result.type !== 'float32') {
      throw new OnnxModelError(`Output '${output}' of ${this.source} is ${result.type}; expected float32.`);
    }
    return { data: result.data as Float32Array, shape: [...result.dims] };
  }

  /** Releases the native session; later runs fail. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.session.release().catch(() => undefined);
  }

  private checkInput(spec: OnnxTensorInfo, input: Float32Array, shape: readonly number[]): void {
    if (this.session.inputNames.length !== 1) {
      throw new OnnxModelError(`${this.source} has ${this.session.inputNames.length} inputs; headstart runs single-input models.`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d > 0) || size !== input.length) {
      throw new InvalidArgumentError(`Input shape [${shape.join(', ')}] does not match ${input.length} values.`);
    }
    const fits = spec.shape.length === shape.length && spec.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === shape[i]);
    if (!fits) {
      throw new InvalidArgumentError(
        `Input shape [${shape.join(', ')}] does not fit input '${spec.name}' of ${this.source}: expected [${spec.shape.join(', ')}].`,
      );
    }
  }
}
