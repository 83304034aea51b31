/** What the numbers were measured on: CPU, memory, Node, TF.js backend and ONNX Runtime. */
import os from 'node:os';
import { initBackend, tf, tfjsNodeAvailable, type BackendName } from '../src/engine/backend.js';
import { loadOnnxRuntime } from '../src/engine/onnx/index.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** The TF.js backend initBackend() chose for this process. */
  backend: BackendName;
  tfjs: string;
  /** onnxruntime-node's version, or null when it does not load here. */
  onnxruntime: string | null;
  tfjsNode: boolean;
}

export async function describeMachine(): Promise<MachineInfo> {
  const backend = await initBackend();
  const onnxruntime = await loadOnnxRuntime().then(
    (ort) => ort.env.versions.node ?? ort.env.versions.common,
    () => null,
  );
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    backend,
    tfjs: tf.version.tfjs,
    onnxruntime,
    tfjsNode: tfjsNodeAvailable(),
  };
}

/** e.g. "AMD EPYC 7B13 ×2 cores, 23.5 GiB, Node v20.20.2, linux x64". */
export function machineLine(m: MachineInfo): string {
  return `${m.cpu} ×${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}, ${m.platform}`;
}

/** e.g. "TF.js 4.22.0 backend wasm, onnxruntime-node 1.30.0, tfjs-node not installed". */
export function enginesLine(m: MachineInfo): string {
  return [
    `TF.js ${m.tfjs} backend ${m.backend}`,
    m.onnxruntime ? `onnxruntime-node ${m.onnxruntime}` : 'onnxruntime-node not loadable',
    m.tfjsNode ? 'tfjs-node installed' : 'tfjs-node not installed',
  ].join(', ');
}
