import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { InvalidArgumentError, listValues } from '../errors.js';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);
let initialised: Promise<BackendName> | undefined;

/** True when @tensorflow/tfjs-node resolves (it is never a hard dependency: its install downloads libtensorflow). */
export function tfjsNodeAvailable(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      if (!tfjsNodeAvailable()) return false;
      await import('@tensorflow/tfjs-node' as string);
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
 * else tensorflow (tfjs-node) → wasm → cpu. A preferred backend that cannot start is an error,
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
        ? "Backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed."
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
