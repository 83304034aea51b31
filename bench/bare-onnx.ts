/**
 * The yardstick for our ONNX Runtime path: an onnxruntime-node InferenceSession used directly, with the
 * session options OnnxModel uses (CPU provider, all graph optimisations, ORT's default threads) and
 * none of our checks, copies or layout handling.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { loadOnnxRuntime, type OnnxRuntime } from '../src/engine/onnx/runtime.js';

export class BareOnnxSession {
  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: InferenceSession,
  ) {}

  /** Opens the graph (the bytes exportToOnnx returned, or an .onnx path). Call `release()` when done. */
  static async create(model: Uint8Array | string): Promise<BareOnnxSession> {
    const ort = await loadOnnxRuntime();
    const options: InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
    const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
    return new BareOnnxSession(ort, session);
  }

  /** One batch of NHWC float32 images; resolves to the first output's data. */
  async run(batch: Float32Array, n: number, height: number, width: number): Promise<Float32Array> {
    const input = new this.ort.Tensor('float32', batch, [n, height, width, 3]);
    const outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    return outputs[this.session.outputNames[0]!]!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
