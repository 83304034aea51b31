import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OnnxModelError } from './errors.js';
import { disableOrtTelemetry } from './runtime.js';

const require = createRequire(import.meta.url);

/**
 * The worker's name in a bundle: esbuild builds `src/engine/onnx/worker.ts` as this entry beside the handlers
 * (docker/extract/Dockerfile), where `import.meta.url` of the bundled session code finds it.
 */
export const ONNX_WORKER_BUNDLE_ENTRY = 'onnx-worker';

/**
 * Loads the TypeScript worker through tsx. Node 20 workers inherit neither `register()` hooks nor `--import`
 * from the thread that starts them, so a worker started from the source tree (the CLI, tests, the batch image:
 * all run through tsx) registers tsx itself first: its CommonJS require hook, which needs no hooks thread of its
 * own (the ESM hooks made each session start ~1 s slower here). Only this loader is inline; the worker is worker.ts.
 */
const TSX_LOADER = `
const { workerData } = require('node:worker_threads');
require(workerData.tsx).register();
require(workerData.script);
`;

/**
 * Starts ONNX Runtime's worker thread: the bundled `onnx-worker.mjs` beside this code when there is one
 * (a Lambda image), else `worker.ts` beside this file through tsx (the source tree).
 * @throws OnnxModelError when neither is there (a bundle built without the worker entry).
 */
export function startOnnxWorker(): Worker {
  // Before the worker's runtime creates its environment: see disableOrtTelemetry.
  disableOrtTelemetry();
  const bundled = new URL(`./${ONNX_WORKER_BUNDLE_ENTRY}.mjs`, import.meta.url);
  if (existsSync(fileURLToPath(bundled))) return new Worker(bundled);
  const source = new URL('./worker.ts', import.meta.url);
  if (existsSync(fileURLToPath(source))) {
    return new Worker(TSX_LOADER, { eval: true, workerData: { tsx: require.resolve('tsx/cjs/api'), script: fileURLToPath(source) } });
  }
  throw new OnnxModelError(
    `ONNX Runtime's worker is missing: expected ${fileURLToPath(bundled)} (bundle src/engine/onnx/worker.ts as the ` +
      `esbuild entry '${ONNX_WORKER_BUNDLE_ENTRY}' beside the handlers) or ${fileURLToPath(source)}.`,
  );
}
