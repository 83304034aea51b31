import { HeadstartError } from '../errors.js';
import type { ObjectStore } from '../store/index.js';
import { JOBS_PREFIX, validateJobId } from './records.js';

/** `jobs/<jobId>/stop.json`: written by POST /jobs/{id}/stop, seen by whichever process runs the job. */
export function stopKey(jobId: string): string {
  return `${JOBS_PREFIX}${validateJobId(jobId)}/stop.json`;
}

export async function requestStop(store: ObjectStore, jobId: string): Promise<void> {
  await store.put(stopKey(jobId), JSON.stringify({ requestedAt: new Date().toISOString() }), { contentType: 'application/json' });
}

/** Clears a stop request, so a resumed job runs. */
export async function clearStop(store: ObjectStore, jobId: string): Promise<void> {
  await store.delete(stopKey(jobId));
}

/** How often a running job looks for a stop request. */
export const STOP_POLL_MS = 1000;

/**
 * An AbortSignal that fires when the job's stop request appears (or `parent` fires): the trainer stops
 * between batches and records the job as failed with code 'JobStopped'. The request is an object in the
 * store, so it reaches a job wherever it runs (this process, a worker, the train Lambda, a Batch container).
 */
export function watchForStop(store: ObjectStore, jobId: string, parent?: AbortSignal, intervalMs = STOP_POLL_MS): { signal: AbortSignal; close: () => void } {
  const controller = new AbortController();
  const key = stopKey(jobId);
  const onParent = () => controller.abort(parent!.reason);
  if (parent?.aborted) onParent();
  parent?.addEventListener('abort', onParent, { once: true });
  let checking = false;
  const check = async () => {
    if (checking || controller.signal.aborted) return;
    checking = true;
    try {
      if (await store.exists(key)) {
        controller.abort(new HeadstartError('JobStopped', `Job '${jobId}' was stopped on request (POST /jobs/${jobId}/stop).`));
      }
    } catch {
      // A failed look is retried on the next tick; the job goes on meanwhile.
    } finally {
      checking = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref?.();
  return {
    signal: controller.signal,
    close: () => {
      clearInterval(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
