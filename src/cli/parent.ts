/**
 * Set by the local server on the job workers it starts (`headstart train|finetune --job`): the server's pid.
 * A worker whose server is gone (kill -9, a crash) exits at once instead of training on as an orphan that
 * would race the restarted server's recovery of the same job. Elsewhere (the GPU batch job) it is unset.
 */
export const WORKER_PARENT_ENV = 'HEADSTART_WORKER_PARENT';

/**
 * Exits this process, without a word to the job, within `everyMs` of its parent's death (its parent pid
 * changes when it is re-parented); the restarted server finds the job running and recovers it. Does nothing
 * unless WORKER_PARENT_ENV names the parent. Returns the function that stops watching.
 */
export function exitWithParent(env: NodeJS.ProcessEnv = process.env, everyMs = 1000): () => void {
  const parent = Number(env[WORKER_PARENT_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return () => undefined;
  const check = (): void => {
    if (process.ppid === parent) return;
    process.stderr.write(`the server (pid ${parent}) is gone: this worker stops; its next start recovers the job\n`);
    process.exit(1);
  };
  // At once too: a worker whose server died while it started must not begin the job (a short one would
  // finish before the first tick).
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
