/**
 * The worker thread that owns one ONNX Runtime session (see session.ts for why inference runs off the main
 * thread). Started by worker-thread.ts: from the source tree through tsx, from a bundle as `onnx-worker.mjs`
 * beside it. It imports nothing of ours at run time, so it bundles alone.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { OnnxTensorInfo, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('onnx worker.ts runs as a worker thread (new Worker), not as a script.');

let session: ort.InferenceSession | undefined;

function describe(m: ort.InferenceSession.ValueMetadata): OnnxTensorInfo {
  return m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function reply(answer: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(answer, transfer);
}

async function create(request: Extract<WorkerRequest, { type: 'create' }>): Promise<void> {
  try {
    session = typeof request.model === 'string'
      ? await ort.InferenceSession.create(request.model, request.options)
      : await ort.InferenceSession.create(request.model, request.options);
    reply({ type: 'ready', inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) });
  } catch (error) {
    reply({ type: 'failed', message: message(error) });
  }
}

async function run(request: Extract<WorkerRequest, { type: 'run' }>): Promise<void> {
  try {
    if (!session) throw new Error('no session: create it first');
    const feeds = { [request.input]: new ort.Tensor('float32', request.data, request.dims) };
    const out = (await session.run(feeds, [request.output]))[request.output]!;
    // The result's buffer is moved to the main thread, not copied (the session does not reuse it).
    const data = out.type === 'float32' ? (out.data as Float32Array) : undefined;
    reply({ type: 'result', id: request.id, dataType: out.type, data, dims: [...out.dims] }, data ? [data.buffer as ArrayBuffer] : []);
  } catch (error) {
    reply({ type: 'error', id: request.id, message: message(error) });
  }
}

port.on('message', async (request: WorkerRequest) => {
  if (request.type === 'create') await create(request);
  else if (request.type === 'run') await run(request);
  else {
    await session?.release().catch(() => undefined);
    port.close();
  }
});
