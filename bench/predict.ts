/**
 * Batch prediction table (issue 18): the fashion-mnist-small images (1,500: train and test splits) classified
 * by a prediction job with a DenseNet121 head, once with none of their features cached (the job extracts
 * them through the upload path's Ingestor, then runs the head) and once with all of them cached (the head
 * alone, read per image or from the shards training built), against the extraction pipeline's own speed (the bulk
 * backfill, the same Ingestor, the same images under other bytes) in the same run.
 * The job runner is the one `npm start` runs, on the embedded S3 server in its own process; what is left out is
 * only the HTTP POST and the polling.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifyRoutes } from '../functions/classify/routes.js';
import { serviceClassifier } from '../functions/predict/classifier.js';
import { pipelineFromConfig } from '../functions/shared/pipeline.js';
import { startLocalS3Process } from '../local/s3/index.js';
import { HeadCache } from '../src/registry/index.js';
import { HeadstartError } from '../src/errors.js';
import { backfill } from '../src/features/backfill.js';
import { Ingestor } from '../src/features/ingest.js';
import { FeaturePipeline } from '../src/features/pipeline.js';
import { loadDatasetFeatures } from '../src/features/shards.js';
import { CLOCK_MARGIN_MS } from '../src/predict/cached.js';
import { runTrainingJob } from '../src/heads/job.js';
import { createJob, createPredictJob } from '../src/jobs/index.js';
import { datasetPrefix } from '../src/layout.js';
import { inProcessExtraction, runPredictJob } from '../src/predict/index.js';
import { createS3Client, S3Store } from '../src/store/index.js';
import { importWeights } from '../src/weights/index.js';
import type { FeatureNamespace } from '../src/features/namespace.js';
import type { SectionContext } from './context.js';
import { loadFashionMnist, SHARED_DIR, withMarker, type BenchImage } from './images.js';
import type { BenchTable, Cell } from './table.js';

/**
 * Images per run: all 1,500 of fashion-mnist-small; --quick a tenth; HEADSTART_BENCH_PREDICT_IMAGES a subset of
 * its own (the none-cached run extracts every one: minutes on a busy 2-core machine). The head trains on its own
 * copy of the same images (other bytes), whose extraction is the pipeline's own speed.
 */
function plan(quick: boolean, env = process.env): number {
  const asked = Number(env.HEADSTART_BENCH_PREDICT_IMAGES);
  return Number.isInteger(asked) && asked > 0 ? Math.min(asked, 1500) : quick ? 150 : 1500;
}

async function put(store: S3Store, dataset: string, images: readonly BenchImage[]): Promise<void> {
  const queue = [...images];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let image = queue.shift(); image; image = queue.shift()) {
        await store.put(`images/${dataset}/${image.label}/${image.name}`, image.bytes, { contentType: `image/${image.format}` });
      }
    }),
  );
}

export async function runPredict(context: SectionContext): Promise<BenchTable[]> {
  const count = plan(context.args.quick);
  const root = await mkdtemp(join(tmpdir(), 'headstart-bench-predict-'));
  const home = join(root, 'home');
  await importWeights(join(SHARED_DIR, 'models', 'densenet121'), { model: 'densenet121', home });
  const s3 = await startLocalS3Process({ port: 0, dataDir: join(root, 'data'), bucket: 'bench' });
  const store = new S3Store(createS3Client({ endpoint: s3.endpoint }), s3.bucket);
  const pipeline = await FeaturePipeline.create({ model: 'densenet121', home });
  try {
    const ns = pipeline.namespace;
    // loadFashionMnist takes the labels in turn, so the first images of each split cover every label (every 10th
    // image of the list would be one label only: a subset could not train a head).
    const fromTrain = Math.round((count * 2) / 3);
    const all = [...(await loadFashionMnist(1000, SHARED_DIR, 'train')), ...(await loadFashionMnist(500, SHARED_DIR, 'test'))];
    const images = count >= all.length ? all : [...all.slice(0, fromTrain), ...all.slice(1000, 1000 + count - fromTrain)];
    // Untimed: the first model calls of a fresh ONNX Runtime session are slower than the rest.
    await pipeline.extract(images.slice(0, 16).map((image) => withMarker(image, 'bench-predict-warmup').bytes));
    // The extraction pipeline alone, on a copy of the very images (other bytes), right before the jobs: the same
    // Ingestor, machine and minutes. The head trains on that copy, so none of the predicted images is cached by it.
    const training = images.map((image) => withMarker(image, 'bench-predict-train'));
    await put(store, 'bench-train', training);
    context.log(`predict: extracting ${training.length} images with the bulk backfill (the extraction pipeline's own speed)`);
    const extraction = await backfill(store, pipeline, datasetPrefix('bench-train'));
    if (extraction.failed + extraction.retry) throw new HeadstartError('BenchPredict', `training images failed: ${JSON.stringify(extraction.failures.slice(0, 3))}`);
    const trained = await runTrainingJob(store, (await createJob(store, { dataset: 'bench-train', head: { hidden: [64], epochs: 30, batchSize: 32 } })).jobId, { namespace: ns });
    if (trained.status !== 'succeeded') throw new HeadstartError('BenchPredict', `head training failed: ${trained.error?.message}`);

    await put(store, 'bench-predict', images.map((image) => withMarker(image, 'bench-predict')));
    const rows: Array<Record<string, Cell>> = [
      { run: 'extraction pipeline alone (bulk backfill, the upload path\'s Ingestor)', images: training.length, cached: 0, extracted: extraction.extracted, failed: 0, seconds: extraction.seconds, perSecond: training.length / extraction.seconds, ratio: 1 },
    ];
    const extractionRate = training.length / extraction.seconds;
    const runs = ['none cached', 'all cached, per-image reads', 'all cached, rows from the dataset\'s shards'] as const;
    for (const run of runs) {
      if (run === runs[2]) {
        // What POST /train builds for the dataset it trains on; links older than the clock margin are read from it.
        await new Promise((resolve) => setTimeout(resolve, CLOCK_MARGIN_MS + 1100));
        await loadDatasetFeatures(store, ns, 'bench-predict');
      }
      context.log(`predict: ${count} images, ${run}`);
      const job = await createPredictJob(store, { dataset: 'bench-predict', head: trained.headId! });
      const started = performance.now();
      const done = await runPredictJob(store, job.jobId, { namespace: ns, extraction: inProcessExtraction(new Ingestor(store, pipeline)) });
      const seconds = (performance.now() - started) / 1000;
      if (done.status !== 'succeeded') throw new HeadstartError('BenchPredict', `prediction job failed: ${done.error?.message}`);
      const progress = done.progress.images!;
      rows.push({ run: `prediction job, ${run}`, images: progress.total, cached: progress.cached, extracted: progress.extracted, failed: progress.failed, seconds, perSecond: progress.total / seconds, ratio: progress.total / seconds / extractionRate });
      context.log(`predict: ${run}: ${(progress.total / seconds).toFixed(1)} img/s`);
    }
    rows.push(await modelJob(context, store, ns, home, extractionRate));
    return [
      {
        id: 'predict',
        title: 'Batch prediction: images/second of a prediction job with a DenseNet121 head, none vs all features cached, and with the DenseNet121 classifier itself',
        command: context.command,
        columns: [
          { key: 'run', label: 'run' },
          { key: 'images', label: 'images' },
          { key: 'cached', label: 'cached' },
          { key: 'extracted', label: 'extracted by the job' },
          { key: 'failed', label: 'failed' },
          { key: 'seconds', label: 'seconds', digits: 1 },
          { key: 'perSecond', label: 'img/s', digits: 1 },
          { key: 'ratio', label: '× extraction pipeline', digits: 2, suffix: '×' },
        ],
        rows,
        notes: [
          `${count} fashion-mnist-small PNGs (28×28, train and test splits${count < all.length ? `, the first ${fromTrain} and ${count - fromTrain}, every label` : ''}) under new bytes, on the embedded S3 server (its own process); DenseNet121, ONNX Runtime, avg_pool (1,024-d).`,
          'Row 1: the same images under other bytes through the bulk backfill (the Ingestor a job uses), just before the jobs, after 16 untimed warm-up images; the head ([64] MLP, 30 epochs) trains on them.',
          'A job: list the prefix and its links, extract what has no features, read the features, the head in batches of 2,048 rows, write results.jsonl and .csv, record progress.',
          'With the model itself (`model: densenet121`, what the predict function runs in the cloud): the classify service on every image, 32 per batch (GET, decode, the whole network with its top, top-5), nothing cached or read from the cache; after an untimed warm-up of the classifier.',
          'None cached: bound by the base network (the ratio to row 1 is what the job adds on top of extraction). All cached, per-image reads: no base, one GET of each link and each feature file (an _unlabelled prefix, a dataset no head trained on). All cached from the shards: a dataset a head trained on (POST /train built its [N, D] shards): a LIST of the links and one GET per 8,192 rows.',
        ],
      },
    ];
  } finally {
    pipeline.dispose();
    await s3.close();
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * A prediction job with `model` (the ImageNet classifier on every image): the runner and classifier the predict
 * function runs (functions/predict), the classify service with the functions' own pipeline factory, on the same images.
 */
async function modelJob(context: SectionContext, store: S3Store, ns: FeatureNamespace, home: string, extractionRate: number): Promise<Record<string, Cell>> {
  const classify = createClassifyRoutes({
    store,
    defaultModel: 'densenet121',
    createPipeline: (model, cut) => pipelineFromConfig({ bucket: store.bucket, model, cut, home }, store),
    heads: new HeadCache(store),
    home,
  });
  try {
    // Untimed: loading the classifier (and its ONNX export on a fresh cache), then its first calls.
    await classify.warmUp();
    context.log('predict: the model itself (densenet121 classifier on every image)');
    const job = await createPredictJob(store, { dataset: 'bench-predict', model: 'densenet121' });
    const started = performance.now();
    const done = await runPredictJob(store, job.jobId, { namespace: ns, classifier: serviceClassifier(classify.service) });
    const seconds = (performance.now() - started) / 1000;
    if (done.status !== 'succeeded') throw new HeadstartError('BenchPredict', `model prediction job failed: ${done.error?.message}`);
    const progress = done.progress.images!;
    context.log(`predict: the model itself: ${(progress.total / seconds).toFixed(1)} img/s`);
    return { run: 'prediction job with the model itself (densenet121 classifier, as the predict function runs it)', images: progress.total, cached: 0, extracted: 0, failed: progress.failed, seconds, perSecond: progress.total / seconds, ratio: progress.total / seconds / extractionRate };
  } finally {
    classify.dispose();
  }
}
