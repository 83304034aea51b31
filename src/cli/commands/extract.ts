import { Ingestor, type IngestOutcome } from '../../features/ingest.js';
import { pendingImages } from '../../features/pending.js';
import { FeaturePipeline, type FeatureCut } from '../../features/pipeline.js';
import type { Pooling } from '../../zoo/types.js';
import { intOption, modelOptions, parse } from '../args.js';
import type { Command } from '../io.js';
import { ProgressBar } from '../progress.js';
import { openStoreSource } from '../store-source.js';
import { pipelineOptions } from './model-options.js';
import { UsageError } from '../io.js';
import { sha256Hex } from '../../features/keys.js';

/** Stable shard of a key: the first 32 bits of its sha256, modulo the shard count. */
export function shardOf(key: string, shards: number): number {
  return Number.parseInt(sha256Hex(Buffer.from(key, 'utf8')).slice(0, 8), 16) % shards;
}

export const extractCommand: Command = {
  name: 'extract',
  summary: 'bulk-extract features for every image under a bucket prefix or local folder that lacks them (resumable)',
  usage:
    'headstart extract <s3://bucket/images/<dataset>/ | dir> --model <id> [--layer L | --pooling avg|max] [--batch 16] ' +
    '[--shards N [--shard I]] [--endpoint URL] [--engine onnx|tfjs|auto] [--json]',
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      { ...modelOptions, layer: { type: 'string' }, pooling: { type: 'string' }, endpoint: { type: 'string' }, shards: { type: 'string' }, shard: { type: 'string' } },
      { minPositionals: 1 },
    );
    const source = await openStoreSource(positionals[0]!, values.endpoint);
    const cut: FeatureCut | undefined = values.layer ? { layer: values.layer } : values.pooling ? { pooling: values.pooling as Pooling } : undefined;
    const batch = intOption(values.batch, 'batch', 16);
    // An AWS Batch array job: child i of n takes the images whose key hashes to i (AWS_BATCH_JOB_ARRAY_INDEX).
    const shards = intOption(values.shards, 'shards', 1);
    const shard = intOption(values.shard ?? process.env.AWS_BATCH_JOB_ARRAY_INDEX, 'shard', 0, 0);
    if (shard >= shards) throw new UsageError(`--shard ${shard} is out of range for --shards ${shards} (0…${shards - 1})`);
    const pipeline = await FeaturePipeline.create({ ...pipelineOptions(values), cut, batchSize: batch });
    try {
      const all = await pendingImages(source.store, pipeline.namespace, source.prefix);
      const pending = shards === 1 ? all.pending : all.pending.filter((o) => shardOf(o.key, shards) === shard);
      const done = all.done;
      if (!values.json) io.err(`${source.describe}: ${pending.length} to extract, ${done} already done (${pipeline.spec.id}, ${pipeline.namespace.layer}, ${pipeline.engine})`);
      const ingestor = new Ingestor(source.store, pipeline);
      const progress = new ProgressBar(pending.length, 'extract', !values.json && process.stderr.isTTY === true);
      const outcomes: IngestOutcome[] = [];
      const started = Date.now();
      for (let i = 0; i < pending.length; i += batch) {
        const slice = pending.slice(i, i + batch).map((o) => ({ key: o.key, size: o.size, etag: o.etag }));
        for (const outcome of await ingestor.ingest(slice)) {
          outcomes.push(outcome);
          progress.tick(outcome.status !== 'failed' && outcome.status !== 'retry');
        }
      }
      progress.finish();
      const seconds = (Date.now() - started) / 1000;
      const count = (s: string) => outcomes.filter((o) => o.status === s).length;
      const failures = outcomes.filter((o) => o.status === 'failed' || o.status === 'retry');
      const summary = {
        source: source.describe,
        namespace: pipeline.namespace,
        alreadyDone: done,
        extracted: count('extracted'),
        cached: count('cached'),
        failed: count('failed'),
        retry: count('retry'),
        seconds,
        failures: failures.map(({ key, status, code, reason }) => ({ key, status, code, reason })),
      };
      if (values.json) io.out(JSON.stringify(summary, null, 2));
      else {
        io.out(`extracted ${summary.extracted}, cached ${summary.cached}, failed ${summary.failed}, to retry ${summary.retry}, already done ${done} — ${seconds.toFixed(1)} s`);
        for (const f of failures) io.out(`  ${f.status === 'retry' ? 'RETRY' : 'FAILED'} ${f.key}: ${f.code} — ${f.reason}`);
      }
      return failures.length ? 1 : 0;
    } finally {
      pipeline.dispose();
    }
  },
};
