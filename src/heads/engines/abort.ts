import { TrainingAbortedError } from '../errors.js';

/** Throws TrainingAbortedError (with the signal's reason as cause) when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TrainingAbortedError('Training was aborted by the caller.', { cause: signal.reason });
}

/**
 * Lets pending events (an abort from a timer or a request) run between batches; without it a
 * synchronous backend would finish the whole epoch before the signal could fire. Costs microseconds.
 */
export async function yieldAndCheck(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}
