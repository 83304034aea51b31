/**
 * Ingest table (issue 3): images/second from upload to feature written, through the real local stack
 * (embedded S3 → object events → queue → extract handler → feature objects), beside the bare model's
 * throughput on the very graph the stack runs, measured in the same run. Ratio target ≥ 0.85.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadstartError } from '../src/errors.js';
import { mapLimit } from '../src/features/concurrency.js';
import { createS3Client, S3Store, type ObjectStore } from '../src/store/index.js';
import { getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { BareOnnxSession } from './bare-onnx.js';
import type { SectionContext } from './context.js';
import { describeMix, loadBenchImages, preprocessBatches, type BenchImage } from './images.js';
import { exportedGraph, type BenchStack } from './stack.js';
import { median } from './stats.js';
import type { BenchTable, Cell } from './table.js';

export const INGEST_MODELS: readonly ModelId[] = ['mobilenet_v2', 'densenet121'];
export const INGEST_TARGET = 0.85;
/** Parallel uploads, as `aws s3 cp --recursive` (10) or `headstart upload` would run them. */
const UPLOAD_CONCURRENCY = 8;
/** The stack's extraction batch (startDevStack's default). */
const BATCH = 8;
/** Give up when the stack stops making progress for this long. */
const STALL_MS = 120_000;

const ingestPlan = (quick: boolean) => (quick ? { images: 64, bareRuns: 1 } : { images: 200, bareRuns: 3 });

/** Feature files (not links, not shards) in the bucket now. */
async function countFeatures(store: ObjectStore): Promise<number> {
  let count = 0;
  for await (const object of store.listAll('features/')) {
    if (object.key.endsWith('.safetensors') && !object.key.includes('/shards/')) count++;
  }
  return count;
}

/** Waits until the queue has settled `expected` more records than `settledBefore`, failing on a stall. */
async function waitForDeliveries(bench: BenchStack, settledBefore: number, expected: number): Promise<void> {
  const settled = () => {
    const s = bench.stack.queue.stats();
    return s.delivered + s.deadLettered + s.deadLetterFailures - settledBefore;
  };
  let last = -1;
  let lastChange = Date.now();
  while (settled() < expected) {
    if (settled() !== last) [last, lastChange] = [settled(), Date.now()];
    if (Date.now() - lastChange > STALL_MS) throw new HeadstartError('BenchStalled', `Ingest stalled at ${last} of ${expected} images.`);
    await sleep(10);
  }
  await bench.stack.queue.idle();
}

interface IngestTiming {
  /** Seconds until the last upload was acknowledged. */
  uploadSeconds: number;
  /** Seconds until the last feature was written. */
  seconds: number;
}

/** Upload → every feature written; checks that nothing failed. */
async function timeIngest(bench: BenchStack, store: ObjectStore, images: readonly BenchImage[]): Promise<IngestTiming> {
  const before = bench.stack.queue.stats();
  const featuresBefore = await countFeatures(store);
  const prefix = `images/bench-${Date.now()}/`;
  const started = performance.now();
  await mapLimit(images, UPLOAD_CONCURRENCY, (image) =>
    store.put(`${prefix}${image.label}/${image.name}`, image.bytes, { contentType: `image/${image.format}` }),
  );
  const uploadSeconds = (performance.now() - started) / 1000;
  await waitForDeliveries(bench, before.delivered + before.deadLettered + before.deadLetterFailures, images.length);
  const seconds = (performance.now() - started) / 1000;
  const after = bench.stack.queue.stats();
  const written = (await countFeatures(store)) - featuresBefore;
  if (after.deadLettered !== before.deadLettered || written !== images.length) {
    throw new HeadstartError('BenchIngest', `${bench.model}: ${written} of ${images.length} features written, ${after.deadLettered - before.deadLettered} dead letters.`);
  }
  return { uploadSeconds, seconds };
}

/** The exported graph of the stack's feature cut, run bare on the same images in batches of 8. */
async function timeBare(bench: BenchStack, images: readonly BenchImage[], runs: number): Promise<number> {
  const spec = getModelSpec(bench.model);
  const session = await BareOnnxSession.create(await exportedGraph(bench.home, bench.model));
  try {
    const size: [number, number] = [spec.inputSize, spec.inputSize];
    const batches = await preprocessBatches(images, size, spec.preprocess, BATCH);
    await session.run(batches[0]!.batch, batches[0]!.n, ...size);
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      for (const { batch, n } of batches) await session.run(batch, n, ...size);
      times.push(performance.now() - started);
    }
    return images.length / (median(times) / 1000);
  } finally {
    await session.release();
  }
}

export async function runIngest(context: SectionContext): Promise<BenchTable[]> {
  const plan = ingestPlan(context.args.quick);
  const images = await loadBenchImages(plan.images);
  const rows: Array<Record<string, Cell>> = [];
  for (const model of INGEST_MODELS) {
    const bench = await context.stacks.get(model);
    const store = new S3Store(createS3Client({ endpoint: bench.stack.s3.endpoint }), bench.stack.s3.bucket);
    context.log(`ingest: ${model}, ${images.length} uploads`);
    const { uploadSeconds, seconds } = await timeIngest(bench, store, images);
    const ingest = images.length / seconds;
    context.log(`ingest: ${model} ${ingest.toFixed(2)} img/s; timing the bare graph`);
    const bare = await timeBare(bench, images, plan.bareRuns);
    rows.push({ model: getModelSpec(model).displayName, weights: bench.weights, images: images.length, uploadSeconds, seconds, ingest, bare, ratio: ingest / bare });
  }
  return [
    {
      id: 'ingest',
      title: 'Ingest: upload → feature written, images/second (local stack)',
      command: context.command,
      columns: [
        { key: 'model', label: 'model' },
        { key: 'weights', label: 'weights' },
        { key: 'images', label: 'images' },
        { key: 'uploadSeconds', label: 'last upload done s', digits: 1 },
        { key: 'seconds', label: 'last feature written s', digits: 1 },
        { key: 'ingest', label: 'ingest img/s', digits: 2 },
        { key: 'bare', label: 'bare model img/s', digits: 2 },
        { key: 'ratio', label: `ratio (≥ ${INGEST_TARGET})`, digits: 2 },
      ],
      rows,
      notes: [
        `startDevStack in this process (event queue, extract handler, ONNX Runtime in a worker thread; the embedded s3rver in a child process; temp data dir and weights cache). Images: ${describeMix(images)}, uploaded ${UPLOAD_CONCURRENCY} at a time through the S3 API; the clock stops when the queue has settled every event and each image has its feature file.`,
        'Weights: DenseNet121 real (../shared/models/densenet121), MobileNetV2 random (no real weights here; imported into the temp cache, timing only).',
        `Bare: onnxruntime-node on the ONNX file the stack exported (same graph), the same images decoded and preprocessed beforehand, batches of ${BATCH}; median of ${plan.bareRuns} pass(es) after a warm-up batch.`,
      ],
    },
  ];
}
