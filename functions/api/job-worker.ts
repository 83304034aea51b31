import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HeadstartError } from '../../src/errors.js';
import type { FeatureNamespace } from '../../src/features/namespace.js';
import { failJob } from '../../src/jobs/records.js';
import type { StoredJob } from '../../src/jobs/types.js';
import { credentialsEnv, type LocalS3Credentials, type ObjectStore } from '../../src/store/index.js';
import { WORKER_PARENT_ENV } from '../../src/cli/parent.js';

/** The CLI the GPU batch job runs; locally the same command runs as a child process. */
const HEADSTART_BIN = fileURLToPath(new URL('../../bin/headstart.js', import.meta.url));

export interface JobWorkerOptions {
  /** The store, as `headstart finetune|train --store` takes it: `s3://<bucket>` or a folder laid out like the bucket. */
  store: string;
  /** The S3 endpoint (the embedded server's) for an s3:// store. */
  endpoint?: string;
  /** The embedded server's credentials, handed to the worker in its environment (HEADSTART_S3_ACCESS_KEY_ID/…). */
  credentials?: LocalS3Credentials;
  /** $HEADSTART_HOME of the worker: the weights it fine-tunes from. */
  home?: string;
  /** Each line the worker prints (its per-epoch progress). @default console.log */
  log?: (line: string) => void;
}

/** Job kinds a worker process runs (a batch prediction runs in the server, with its loaded pipeline; dataset issues too). */
type WorkerKind = Exclude<StoredJob['kind'], 'predict' | 'issues'>;

/** What a worker of each kind runs, and what its job says when the worker dies without recording its end. */
const KINDS: Record<WorkerKind, { command: string; name: string; next: (jobId: string) => string }> = {
  finetune: { command: 'finetune', name: 'fine-tuning', next: (jobId) => `POST /jobs/${jobId}/resume continues from the last complete epoch.` },
  train: { command: 'train', name: 'head-training', next: () => 'Nothing was published; POST /train again (with a smaller head if it ran out of memory).' },
};

/**
 * Runs one job as the cloud does, in a child process: `headstart finetune --job <jobId>` (the GPU batch job's
 * command) or `headstart train --job <jobId>` (the train function's work; `namespace` is the service's). The
 * seconds-long synchronous training steps then never stall the local server's event loop (its API, classify
 * routes and embedded S3 server answer while a job trains), and a crash stays the worker's: a trap of TF.js's
 * wasm backend, V8 out of memory, a native fault end the worker and its job, never the server or later jobs.
 * The signal stops it with SIGTERM (the job records TrainingAborted; fine-tuning keeps its checkpoint). A
 * worker that dies without recording its end (killed, out of memory) leaves the job failed with 'WorkerExited'.
 */
export async function runJobWorker(
  store: ObjectStore,
  job: Pick<StoredJob, 'jobId'> & { kind: WorkerKind },
  signal: AbortSignal,
  options: JobWorkerOptions & { namespace?: FeatureNamespace },
): Promise<void> {
  const { jobId } = job;
  const kind = KINDS[job.kind];
  const log = options.log ?? ((line: string) => console.log(line));
  const args = [
    HEADSTART_BIN,
    kind.command,
    '--job',
    jobId,
    '--store',
    options.store,
    ...(options.endpoint ? ['--endpoint', options.endpoint] : []),
    ...(options.namespace ? ['--namespace', JSON.stringify(options.namespace)] : []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, [WORKER_PARENT_ENV]: String(process.pid), ...(options.home ? { HEADSTART_HOME: options.home } : {}), ...(options.credentials ? credentialsEnv(options.credentials) : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => log(`[${kind.command} ${jobId}] ${line}`));
  const stop = () => child.kill('SIGTERM');
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, sig) => resolve({ code, signal: sig }));
  }).finally(() => signal.removeEventListener('abort', stop));
  if (exit.code === 0) return;
  const how = exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`;
  const error = new HeadstartError('WorkerExited', `The ${kind.name} worker ${how} before recording the end of the job (out of memory?). ${kind.next(jobId)}`);
  // A worker that recorded its own end (failed or succeeded) is left as it said.
  await failJob(store, jobId, error, ['queued', 'running']);
}
