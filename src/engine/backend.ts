import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { InvalidArgumentError, listValues } from '../errors.js';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);
let initialised: Promise<BackendName> | undefined;
/** What initBackend was last asked for, so resetBackend starts the same backend again. */
let lastPreferred: string | undefined;
/** Bumped by resetBackend: models and tensors made before it belong to a backend that is gone. */
let generation = 0;

/**
 * The native TensorFlow bindings behind the 'tensorflow' backend, in the order tried: the CUDA build (the GPU
 * fine-tuning image installs it) before the CPU one. Neither is ever a hard dependency: each install downloads a
 * libtensorflow of hundreds of MB. Both register the same backend, so at most one of them is loaded.
 */
export const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
export type TfjsNodePackage = (typeof TFJS_NODE_PACKAGES)[number];

/** Resolves a module id to a path, or throws when it is not installed (`require.resolve`'s contract). */
export type ModuleResolver = (id: string) => string;

/** The installed bindings, in the order tried; `resolve` is injectable so the order can be tested without them. */
export function installedTfjsNodePackages(resolve: ModuleResolver = require.resolve): TfjsNodePackage[] {
  return TFJS_NODE_PACKAGES.filter((name) => {
    try {
      resolve(name);
      return true;
    } catch {
      return false;
    }
  });
}

/** True when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node resolves. */
export function tfjsNodeAvailable(resolve: ModuleResolver = require.resolve): boolean {
  return installedTfjsNodePackages(resolve).length > 0;
}

/**
 * Loads the first binding that imports (a GPU build whose libtensorflow cannot load gives way to the CPU one).
 * The names go through a variable: neither package is resolved by TypeScript or a bundler.
 */
async function loadTfjsNode(): Promise<boolean> {
  for (const name of installedTfjsNodePackages()) {
    try {
      await import(name);
      return true;
    } catch {
      // Try the next one.
    }
  }
  return false;
}

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      if (!(await loadTfjsNode())) return false;
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Picks the TF.js backend once per process: `preferred` (or HEADSTART_BACKEND) when given,
 * else tensorflow (tfjs-node-gpu, then tfjs-node) → wasm → cpu. A preferred backend that cannot start is an error,
 * not a silent fallback: the user asked for it by name.
 */
export function initBackend(preferred: string | undefined = process.env.HEADSTART_BACKEND): Promise<BackendName> {
  if (preferred !== undefined && preferred !== '' && preferred !== 'auto' && !BACKENDS.includes(preferred as BackendName)) {
    throw new InvalidArgumentError(`Unknown backend '${preferred}': expected ${listValues([...BACKENDS, 'auto'])}.`);
  }
  lastPreferred = preferred;
  initialised ??= (async () => {
    const wanted = preferred && preferred !== 'auto' ? (preferred as BackendName) : undefined;
    const order = wanted ? [wanted] : [...BACKENDS];
    for (const name of order) {
      if (await tryBackend(name)) {
        await tf.ready();
        return name;
      }
    }
    throw new InvalidArgumentError(
      wanted === 'tensorflow'
        ? "Backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither could be loaded."
        : `Backend '${wanted ?? 'auto'}' could not be started.`,
    );
  })();
  const pending = initialised;
  pending.catch(() => {
    if (initialised === pending) initialised = undefined;
  });
  return pending;
}

/**
 * True for a failure of the backend itself rather than of the request: a WebAssembly trap ('RuntimeError:
 * memory access out of bounds' when the wasm backend's 4 GiB heap is exhausted mid-kernel) or an Emscripten
 * abort. After one the backend's heap and kernels are in an unknown state, and every later op fails the same
 * way until resetBackend.
 */
export function isBackendFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'RuntimeError' || /^Aborted\(/.test(error.message);
}

/** Which backend instance this process is on; a model loaded under another generation is dead. */
export function backendGeneration(): number {
  return generation;
}

interface ResettableEngine {
  registry: Record<string, { dispose(): void }>;
  state: { dispose(): void };
  reset(): void;
}

/**
 * Throws the backend away and starts a fresh one (a new wasm instance with a new heap), so that one fault
 * does not fail every later training job and head prediction of a long-running process. Every tensor and
 * variable of the old backend is forgotten, not freed: a crashed heap cannot free anything, and its memory
 * goes with it. Holders of models (HeadCache) see the bump of backendGeneration and load them again.
 */
export async function resetBackend(): Promise<BackendName> {
  const engine = tf.engine() as unknown as ResettableEngine;
  for (const backend of Object.values(engine.registry)) backend.dispose = () => undefined;
  engine.state.dispose = () => undefined;
  engine.reset();
  generation += 1;
  initialised = undefined;
  return initBackend(lastPreferred);
}

export { tf };
