import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { InvalidArgumentError, listValues } from '../errors.js';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);
let initialised: Promise<BackendName> | undefined;

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

export { tf };
