import type { InferenceSession } from 'onnxruntime-node';

/** A model input or output as ONNX Runtime reports it; dynamic dims are names (e.g. 'N'). */
export interface OnnxTensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

/** What the main thread asks of the worker (worker.ts), one message at a time per session. */
export type WorkerRequest =
  | { type: 'create'; model: Uint8Array | string; options: InferenceSession.SessionOptions }
  | { type: 'run'; id: number; input: string; output: string; data: Float32Array; dims: number[] }
  | { type: 'release' };

/** What the worker answers: 'ready'/'failed' to 'create', 'result'/'error' (same id) to 'run'. */
export type WorkerReply =
  | { type: 'ready'; inputs: OnnxTensorInfo[]; outputs: OnnxTensorInfo[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; dataType: string; data?: Float32Array; dims: number[] }
  | { type: 'error'; id: number; message: string };
