import { tf } from '../../src/engine/backend.js';

/** Runs `fn` and asserts it leaves no tensor behind: the leak test every public model method gets. */
export async function expectNoLeak<T>(fn: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${after - before} tensor(s) left behind (before ${before}, after ${after})`);
  return result;
}
