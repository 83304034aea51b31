import { EngineUnavailableError } from './errors.js';

export type OnnxRuntime = typeof import('onnxruntime-node');

let loading: Promise<OnnxRuntime> | undefined;

/**
 * Turns off ONNX Runtime's POSIX telemetry (onnxruntime ≥ 1.29, the Microsoft 1DS client) unless the user set
 * ORT_DISABLE_TELEMETRY. Its process-info event matches libstdc++ std::regex patterns against the process command
 * line while the runtime's environment is created, and that regex recurses per character (~200 bytes of stack
 * for each byte of the command line, measured here): `headstart features <a folder's glob>` with ~20 KB of paths
 * overflowed the ONNX worker thread's 4 MiB stack and died with SIGSEGV before the first image (~40 KB overflows
 * the main thread's 8 MiB). ORT reads the variable with getenv when its environment is first created, so it has to
 * be set in the main thread (a worker's process.env is a copy native code never sees) before the first session
 * of the process. Telemetry uploads from a user's machine or a Lambda are unwanted anyway.
 * See https://github.com/vespa-engine/vespa/pull/37786 (the same crash, same cure) and onnxruntime PR #27379.
 */
export function disableOrtTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.ORT_DISABLE_TELEMETRY ??= '1';
}

/**
 * Loads onnxruntime-node once per process, on first use: its native binding is ~45 MB and absent
 * from some deployments (the train Lambda), so nothing imports it eagerly.
 * @throws EngineUnavailableError when the package or its binary for this platform is missing.
 */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  disableOrtTelemetry();
  loading ??= import('onnxruntime-node').catch((cause: unknown) => {
    loading = undefined;
    throw new EngineUnavailableError(
      `onnxruntime-node could not be loaded (${(cause as Error).message}); install it or use engine 'tfjs'.`,
      { cause },
    );
  });
  return loading;
}

/** Whether onnxruntime-node loads here ('auto' engine choice). */
export async function onnxRuntimeAvailable(): Promise<boolean> {
  try {
    await loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}
