import { EngineUnavailableError } from './errors.js';

export type OnnxRuntime = typeof import('onnxruntime-node');

let loading: Promise<OnnxRuntime> | undefined;

/**
 * Loads onnxruntime-node once per process, on first use: its native binding is ~45 MB and absent
 * from some deployments (the train Lambda), so nothing imports it eagerly.
 * @throws EngineUnavailableError when the package or its binary for this platform is missing.
 */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
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
