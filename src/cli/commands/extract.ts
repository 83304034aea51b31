import { backfill } from '../../features/backfill.js';
import { FeaturePipeline } from '../../features/pipeline.js';
import { intOption, modelOptions, parse } from '../args.js';
import { type Command, UsageError } from '../io.js';
import { ProgressBar } from '../progress.js';
import { openStoreSource } from '../store-source.js';
import { calibrationImages, cutOption, pipelineOptions } from './model-options.js';

export const extractCommand: Command = {
  name: 'extract',
  summary: 'bulk-extract features for every image under a bucket prefix or local folder that lacks them (resumable)',
  usage:
    'headstart extract <s3://bucket/images/<dataset>/ | dir> --model <id> [--layer L | --pooling avg|max] [--batch 16] ' +
    '[--shards N [--shard I]] [--endpoint URL] [--engine onnx|tfjs|auto] [--precision fp32|int8 [--calibration <folder>]] [--json]',
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      { ...modelOptions, layer: { type: 'string' }, pooling: { type: 'string' }, endpoint: { type: 'string' }, shards: { type: 'string' }, shard: { type: 'string' } },
      { minPositionals: 1 },
    );
    const source = await openStoreSource(positionals[0]!, values.endpoint);
    const cut = cutOption(values);
    const batch = intOption(values.batch, 'batch', 16);
    // An AWS Batch array job: child i of n takes the images whose key hashes to i (AWS_BATCH_JOB_ARRAY_INDEX).
    const shards = intOption(values.shards, 'shards', 1);
    const shard = intOption(values.shard ?? process.env.AWS_BATCH_JOB_ARRAY_INDEX, 'shard', 0, 0);
    if (shard >= shards) throw new UsageError(`--shard ${shard} is out of range for --shards ${shards} (0…${shards - 1})`);
    const pipeline = await FeaturePipeline.create({ ...pipelineOptions(values), cut, batchSize: batch, calibration: await calibrationImages(values.calibration) });
    try {
      let progress: ProgressBar | undefined;
      const result = await backfill(source.store, pipeline, source.prefix, {
        batch,
        shards,
        shard,
        onPlan: ({ pending, alreadyDone }) => {
          if (!values.json) io.err(`${source.describe}: ${pending} to extract, ${alreadyDone} already done (${pipeline.spec.id}, ${pipeline.namespace.layer}, ${pipeline.engine})`);
          progress = new ProgressBar(pending, 'extract', !values.json && process.stderr.isTTY === true);
        },
        onOutcome: (outcome) => progress?.tick(outcome.status !== 'failed' && outcome.status !== 'retry'),
      });
      progress?.finish();
      const summary = { source: source.describe, ...result };
      if (values.json) io.out(JSON.stringify(summary, null, 2));
      else {
        io.out(`extracted ${summary.extracted}, cached ${summary.cached}, failed ${summary.failed}, to retry ${summary.retry}, already done ${summary.alreadyDone} — ${summary.seconds.toFixed(1)} s`);
        for (const f of summary.failures) io.out(`  ${f.status === 'retry' ? 'RETRY' : 'FAILED'} ${f.key}: ${f.code} — ${f.reason}`);
      }
      return summary.failures.length ? 1 : 0;
    } finally {
      pipeline.dispose();
    }
  },
};
