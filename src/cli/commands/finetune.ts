import { initBackend } from '../../engine/backend.js';
import { runFinetuneJob, type FinetuneRequest, type FinetuneResult, type UnfreezeSpec } from '../../finetune/index.js';
import { TrainingAbortedError } from '../../heads/errors.js';
import type { EpochLog } from '../../heads/types.js';
import { newJobId, readJob, validateJobId } from '../../jobs/records.js';
import { watchForStop } from '../../jobs/stop.js';
import type { ObjectStore } from '../../store/index.js';
import type { Interpolation } from '../../zoo/types.js';
import { intOption, parse } from '../args.js';
import { UsageError, type CliIo, type Command } from '../io.js';
import { exitWithParent } from '../parent.js';
import { openStoreSource } from '../store-source.js';

const LAST_N = /^last(?:N)?[:=](\d+)$/i;

/** `--unfreeze conv5` (a layer or block) or `--unfreeze last:12` (the last 12 layers of the base). */
function unfreezeOption(value: string | undefined): UnfreezeSpec {
  if (!value) throw new UsageError("--unfreeze is required: a layer name, a block prefix (e.g. 'conv5', 'block5', 'block_16') or last:<N>");
  const lastN = LAST_N.exec(value);
  return lastN ? { lastN: Number(lastN[1]) } : value;
}

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
  return n;
}

const OPTIONS = {
  model: { type: 'string', short: 'm' },
  unfreeze: { type: 'string' },
  epochs: { type: 'string' },
  'from-head': { type: 'string' },
  augment: { type: 'boolean' },
  store: { type: 'string' },
  endpoint: { type: 'string' },
  weights: { type: 'string' },
  'input-size': { type: 'string' },
  interpolation: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  patience: { type: 'string' },
  'validation-split': { type: 'string' },
  seed: { type: 'string' },
  job: { type: 'string' },
  'model-id': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

/** The request the flags describe; unset flags stay unset so the core's defaults apply. */
function requestOf(dataset: string, values: Values): FinetuneRequest {
  const model = values.model ?? process.env.HEADSTART_MODEL;
  if (!model) throw new UsageError('--model is required (or set HEADSTART_MODEL); see `headstart models`');
  const request: FinetuneRequest = {
    dataset,
    model,
    unfreeze: unfreezeOption(values.unfreeze),
    weights: values.weights === 'random' ? null : values.weights,
    fromHead: values['from-head'],
    inputSize: values['input-size'] === undefined ? undefined : intOption(values['input-size'], 'input-size', 0),
    interpolation: values.interpolation as Interpolation | undefined,
    epochs: values.epochs === undefined ? undefined : intOption(values.epochs, 'epochs', 0),
    batchSize: values.batch === undefined ? undefined : intOption(values.batch, 'batch', 0),
    learningRate: numberOption(values.lr, 'lr'),
    patience: values.patience === undefined ? undefined : intOption(values.patience, 'patience', 0, 0),
    validationSplit: numberOption(values['validation-split'], 'validation-split'),
    seed: values.seed === undefined ? undefined : intOption(values.seed, 'seed', 0, 0),
    augment: values.augment,
    modelId: values['model-id'],
  };
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as unknown as FinetuneRequest;
}

/**
 * `--job <id>` without a dataset: the request recorded in jobs/<id>.json (what POST /train queued, or a
 * job started here before). This is the GPU batch job's command.
 */
async function recordedRequest(store: ObjectStore, jobId: string): Promise<FinetuneRequest> {
  const job = await readJob(store, jobId);
  if (job.kind !== 'finetune') throw new UsageError(`job ${jobId} is a ${job.kind} job, not a fine-tuning job`);
  return job.request;
}

const pct = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);

function epochLine(log: EpochLog, epochs: number): string {
  const val = log.valLoss === undefined ? '' : `, val loss ${log.valLoss.toFixed(4)}, val accuracy ${pct(log.valAccuracy)}`;
  return `epoch ${log.epoch}/${epochs}: loss ${log.loss.toFixed(4)}, accuracy ${pct(log.accuracy)}${val} (${(log.elapsedMs / 1000).toFixed(1)} s)`;
}

function printResult(result: FinetuneResult, io: CliIo): void {
  const { config, metrics } = result;
  io.out(`published models/finetuned/${result.modelId}/ (model.json + weights.bin, model.onnx)`);
  io.out(`  ${config.base.model}, trainable from '${config.unfreeze.firstLayer ?? '(head only)'}': ${config.unfreeze.trainableParams.toLocaleString('en-US')} parameters`);
  io.out(`  best epoch ${result.bestEpoch} of ${config.training.epochs}: ${metrics.evaluatedOn} accuracy ${pct(metrics.accuracy)}, loss ${metrics.loss.toFixed(4)}`);
  io.out(`  feature namespace of the fine-tuned base: ${config.finetunedBase.namespace}`);
  if (config.training.skipped.length) io.out(`  skipped ${config.training.skipped.length} unreadable image(s): ${config.training.skipped.map((s) => `${s.key} (${s.code})`).join(', ')}`);
}

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'fine-tune a pretrained base with its head on a dataset\'s images and publish it (resumable; the GPU batch job runs this)',
  usage:
    'headstart finetune --job <jobId> (the request recorded for the job, e.g. by POST /train) | headstart finetune <dataset> --model <id> --unfreeze <layer | block prefix | last:N> [--epochs 5] [--from-head <headId>] ' +
    '[--augment] [--store s3://bucket | dir] [--endpoint URL] [--weights imagenet|<path>|random] [--input-size N] [--batch 8] ' +
    '[--lr 1e-5] [--patience 2] [--validation-split 0.2] [--seed 42] [--job <jobId> (resume)] [--model-id <id>] [--backend …] [--json]',
  async run(args, io) {
    const { values, positionals } = parse(args, OPTIONS);
    if (positionals.length === 0 && !values.job) throw new UsageError('give a dataset (a new job), or --job <jobId> (run or resume a recorded job)');
    const given = positionals.length ? requestOf(positionals[0]!, values) : undefined;
    const jobId = values.job ? validateJobId(values.job) : newJobId();
    const source = await openStoreSource(values.store ?? process.env.HEADSTART_STORE ?? '.', values.endpoint);
    const request = given ?? (await recordedRequest(source.store, jobId));
    const backend = await initBackend(values.backend);
    if (!values.json) io.err(`job ${jobId} on ${source.describe} (${backend} backend); stop with Ctrl-C and resume with --job ${jobId}`);
    const controller = new AbortController();
    const unwatchParent = exitWithParent();
    // SIGTERM: what AWS Batch (ECS) sends before it stops a container (a Spot reclaim, a timeout, TerminateJob).
    const stop = (signal: NodeJS.Signals) => controller.abort(new Error(`stopped by ${signal}`));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // POST /jobs/{id}/stop reaches the job wherever this command runs (a local worker, the GPU batch job).
    const stopRequest = watchForStop(source.store, jobId, controller.signal);
    try {
      const result = await runFinetuneJob(source.store, jobId, request, {
        signal: stopRequest.signal,
        onEpoch: (log, job) => (values.json ? undefined : io.err(epochLine(log, job.progress.epochs))),
      });
      if (values.json) io.out(JSON.stringify({ jobId, modelId: result.modelId, labels: result.labels, bestEpoch: result.bestEpoch, metrics: result.metrics, config: result.config }, null, 2));
      else printResult(result, io);
      return 0;
    } catch (error) {
      if (!(error instanceof TrainingAbortedError) || !stopRequest.signal.aborted) throw error;
      io.err(`stopped; the last complete epoch is checkpointed: resume with the same arguments and --job ${jobId}`);
      return 130;
    } finally {
      stopRequest.close();
      unwatchParent();
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
  },
};
