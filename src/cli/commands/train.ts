import { initBackend } from '../../engine/backend.js';
import { HeadstartError } from '../../errors.js';
import type { FeatureNamespace } from '../../features/namespace.js';
import { runTrainingJob } from '../../heads/job.js';
import { validateJobId } from '../../jobs/records.js';
import { watchForStop } from '../../jobs/stop.js';
import { parse } from '../args.js';
import { UsageError, type Command } from '../io.js';
import { exitWithParent } from '../parent.js';
import { openStoreSource } from '../store-source.js';

const OPTIONS = {
  job: { type: 'string' },
  store: { type: 'string' },
  endpoint: { type: 'string' },
  namespace: { type: 'string' },
  backend: { type: 'string' },
} as const;

/** The service's feature namespace as the server hands it over: the JSON of a FeatureNamespace. */
function namespaceOption(value: string | undefined): FeatureNamespace {
  if (!value) throw new UsageError('--namespace is required: the JSON of the feature namespace heads train on (the server passes it)');
  let ns: unknown;
  try {
    ns = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--namespace must be JSON: ${(error as Error).message}`);
  }
  const fields = ns as Partial<FeatureNamespace> | null;
  if (typeof fields?.model !== 'string' || typeof fields.weightsDigest !== 'string' || typeof fields.layer !== 'string') {
    throw new UsageError('--namespace must be a feature namespace: {"model", "weightsDigest", "layer", …}');
  }
  return fields as FeatureNamespace;
}

/**
 * `headstart train --job <id>`: runs one queued head-training job, as the train function does in the cloud.
 * `npm start` runs it as a worker process, so that a fault of the TF.js backend (a wasm trap when its 4 GiB
 * heap runs out) or of the process (V8 out of memory) ends this process and the job, never the server.
 */
export const trainCommand: Command = {
  name: 'train',
  summary: 'run a queued head-training job (what POST /train queued) on a store: the local server runs it as a worker process',
  usage: 'headstart train --job <jobId> --namespace <feature namespace JSON> [--store s3://bucket | dir] [--endpoint URL] [--backend tensorflow|wasm|cpu]',
  async run(args, io) {
    const { values } = parse(args, OPTIONS);
    if (!values.job) throw new UsageError('--job <jobId> is required: the job POST /train recorded');
    const jobId = validateJobId(values.job);
    const namespace = namespaceOption(values.namespace);
    const source = await openStoreSource(values.store ?? process.env.HEADSTART_STORE ?? '.', values.endpoint);
    const unwatchParent = exitWithParent();
    await initBackend(values.backend);
    const controller = new AbortController();
    const stop = () => controller.abort(new HeadstartError('TrainingAborted', 'The local server shut down before the job finished.'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // POST /jobs/{id}/stop reaches the job in this process too.
    const stopRequest = watchForStop(source.store, jobId, controller.signal);
    try {
      const job = await runTrainingJob(source.store, jobId, { namespace, signal: stopRequest.signal });
      io.err(job.status === 'succeeded' ? `job ${jobId} succeeded: head ${job.headId}` : `job ${jobId} ${job.status}${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}`);
      return job.status === 'succeeded' ? 0 : 1;
    } finally {
      stopRequest.close();
      unwatchParent();
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
  },
};
