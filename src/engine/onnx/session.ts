import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { InvalidArgumentError, listValues } from '../../errors.js';
import { EngineUnavailableError, OnnxModelError } from './errors.js';
import { loadOnnxRuntime, type OnnxRuntime } from './runtime.js';
import type { OnnxTensorInfo, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { startOnnxWorker } from './worker-thread.js';

export interface OnnxSessionOptions {
  /**
   * Threads for one operator (ORT intra_op_num_threads). @default ORT's choice (the physical cores) for one
   * session; with `sessions` above 1, the cores shared out among them (at least 1 each)
   */
  intraOpThreads?: number;
  /**
   * Sessions of the model, each in its own worker thread, that run batches side by side: a run goes to the
   * one with the fewest runs waiting. Batches in parallel scale better than one batch's operators over the same
   * threads, and a batch stalls only its own session when the cores are shared with other work (each
   * multi-threaded operator otherwise waits for its slowest thread). On 2 cores, 2 × 1 thread against 1 × 2:
   * DenseNet121 38 against 31 img/s, MobileNetV2 171–204 against 172–177 (`bench/model-batch.ts`,
   * docs/benchmarks.md). Each holds its own copy of the weights. @default 1
   */
  sessions?: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu']. @default ['cpu'] */
  executionProviders?: readonly string[];
  /**
   * Let ORT's intra-op threads busy-wait for the next operator (ORT's default). Off by default here: between
   * runs they spin on cores that decoding, S3 requests and the event loop need (the ingest pipeline overlaps
   * them with inference); measured on MobileNetV2, 30 % less CPU per batch of 8 at the same wall time.
   * @default false
   */
  spinWait?: boolean;
}

export type { OnnxTensorInfo } from './worker-protocol.js';

export interface OnnxRunResult {
  data: Float32Array;
  shape: number[];
}

function checkOptions(ort: OnnxRuntime, options: OnnxSessionOptions): void {
  const { intraOpThreads, sessions, executionProviders } = options;
  if (intraOpThreads !== undefined && !(Number.isInteger(intraOpThreads) && intraOpThreads > 0)) {
    throw new InvalidArgumentError(`intraOpThreads must be a positive integer, got ${intraOpThreads}.`);
  }
  if (sessions !== undefined && !(Number.isInteger(sessions) && sessions > 0)) {
    throw new InvalidArgumentError(`sessions must be a positive integer, got ${sessions}.`);
  }
  const known = ort.listSupportedBackends().map((b) => b.name);
  const unknown = (executionProviders ?? []).filter((ep) => !known.includes(ep));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`Unknown execution provider(s) ${listValues(unknown)}: expected ${listValues(known)}.`);
  }
}

/** Every message to the worker goes through here, so it is one of the requests worker.ts answers. */
function send(worker: Worker, request: WorkerRequest): void {
  worker.postMessage(request);
}

async function checkFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new InvalidArgumentError(`ONNX model file not found: ${path}`);
}

/** Intra-op threads of each of `sessions` sessions: the cores shared out (at least 1), or ORT's choice for one. */
export function threadsPerSession(sessions: number, cores = availableParallelism()): number | undefined {
  return sessions > 1 ? Math.max(1, Math.floor(cores / sessions)) : undefined;
}

/** One worker thread holding one native session, and the runs waiting for it. */
class SessionWorker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly worker: Worker,
    onFailure: (error: Error) => void,
    source: string,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return;
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      waiter?.resolve(reply);
    });
    worker.on('error', (error) => onFailure(new OnnxModelError(`ONNX Runtime's worker for ${source} crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => onFailure(new OnnxModelError(`ONNX Runtime's worker for ${source} exited (code ${code}).`)));
    // An idle session does not keep the process alive; a run in flight does (see run()).
    worker.unref();
  }

  /** Runs waiting for this session. */
  get load(): number {
    return this.pending.size;
  }

  run(request: Omit<Extract<WorkerRequest, { type: 'run' }>, 'id'>): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      send(this.worker, { ...request, id });
    });
  }

  /** Rejects every run waiting for this session (the model has failed). */
  rejectAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  release(): void {
    send(this.worker, { type: 'release' });
  }
}

/** Starts a worker and opens the model in it: its session and what ORT reports of the graph, or why it could not. */
async function openSession(model: Uint8Array | string, options: InferenceSession.SessionOptions): Promise<{ worker: Worker; reply: WorkerReply }> {
  const worker = startOnnxWorker();
  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    send(worker, { type: 'create', model, options });
  }).catch((error: Error): WorkerReply => ({ type: 'failed', message: error.message }));
  return { worker, reply };
}

/**
 * An ONNX model loaded in ONNX Runtime (CPU by default). One input, float32; `run` returns one
 * output. The session lives in a worker thread of its own, so inference never blocks this thread's
 * event loop: onnxruntime-node's `run` computes on the calling JS thread (its promise only defers the call with
 * setImmediate), so a session on the main thread would stall the event loop for a whole batch (no request read,
 * no object stored, no image decoded meanwhile). The worker is worker.ts. With `sessions` above 1 there is one
 * worker and session per copy, and runs in flight together go to different ones. Owns the workers and their
 * native sessions: call `dispose()` when done.
 */
export class OnnxModel {
  private disposed = false;
  private failure?: Error;
  private readonly workers: SessionWorker[];

  private constructor(
    workers: Worker[],
    readonly inputs: OnnxTensorInfo[],
    readonly outputs: OnnxTensorInfo[],
    /** The file path, or a description of the bytes, for error messages. */
    readonly source: string,
  ) {
    // One worker lost fails the model: a crashed session may have taken the process's ORT state with it.
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const worker of this.workers) worker.rejectAll(error);
    };
    this.workers = workers.map((worker) => new SessionWorker(worker, fail, source));
  }

  /** Sessions running batches side by side (the `sessions` option). */
  get sessions(): number {
    return this.workers.length;
  }

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
    const sessions = options.sessions ?? 1;
    const threads = options.intraOpThreads ?? threadsPerSession(sessions);
    const sessionOptions: InferenceSession.SessionOptions = {
      executionProviders: [...(options.executionProviders ?? ['cpu'])],
      graphOptimizationLevel: 'all',
      ...(threads ? { intraOpNumThreads: threads } : {}),
      // onnxruntime_session_options_config_keys.h: kOrtSessionOptionsConfigAllowIntraOpSpinning.
      extra: { session: { intra_op: { allow_spinning: options.spinWait ? '1' : '0' } } },
    };
    const opened = await Promise.all(Array.from({ length: sessions }, () => openSession(model, sessionOptions)));
    const first = opened[0]!.reply;
    const refused = opened.find((o) => o.reply.type !== 'ready')?.reply;
    if (!refused && first.type === 'ready') return new OnnxModel(opened.map((o) => o.worker), first.inputs, first.outputs, source);
    await Promise.all(opened.map((o) => o.worker.terminate()));
    const message = refused?.type === 'failed' ? refused.message : 'unexpected reply';
    // ORT's own error, as its worker reported it.
    const cause = new Error(message);
    if (options.executionProviders?.some((ep) => ep !== 'cpu' && message.includes(ep))) {
      throw new EngineUnavailableError(`ONNX Runtime could not start execution providers ${listValues(options.executionProviders)}: ${message}`, { cause });
    }
    throw new OnnxModelError(`ONNX Runtime could not load the model ${source}: ${message}`, { cause });
  }

  /**
   * Runs the model on one float32 tensor. `outputName` defaults to the first output.
   * The returned data is a fresh array the caller owns; `input` is copied, never taken.
   * @throws InvalidArgumentError when the data does not fill `shape` or `shape` does not fit the model's input.
   */
  async run(input: Float32Array, shape: readonly number[], outputName?: string): Promise<OnnxRunResult> {
    if (this.disposed) throw new InvalidArgumentError(`The ONNX model ${this.source} was disposed.`);
    if (this.failure) throw this.failure;
    const [spec] = this.inputs;
    this.checkInput(spec!, input, shape);
    const names = this.outputs.map((o) => o.name);
    const output = outputName ?? names[0]!;
    if (!names.includes(output)) throw new InvalidArgumentError(`Unknown output '${output}': expected ${listValues(names)}.`);
    // The session with the fewest runs waiting (the first of those): with one run in flight at a time, always the first.
    const worker = this.workers.reduce((best, w) => (w.load < best.load ? w : best));
    const reply = await worker.run({ type: 'run', input: spec!.name, output, data: input, dims: [...shape] });
    if (reply.type === 'error') throw new OnnxModelError(`ONNX Runtime failed to run ${this.source}: ${reply.message}`, { cause: new Error(reply.message) });
    if (reply.type !== 'result' || !reply.data) {
      throw new OnnxModelError(`Output '${output}' of ${this.source} is ${reply.type === 'result' ? reply.dataType : 'missing'}; expected float32.`);
    }
    return { data: reply.data, shape: [...reply.dims] };
  }

  /** Releases the native sessions and their workers; later runs fail. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const worker of this.workers) worker.release();
  }

  private checkInput(spec: OnnxTensorInfo, input: Float32Array, shape: readonly number[]): void {
    if (this.inputs.length !== 1) {
      throw new OnnxModelError(`${this.source} has ${this.inputs.length} inputs; headstart runs single-input models.`);
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
