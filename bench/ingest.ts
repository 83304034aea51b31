/**
 * Ingest tables (issues 3 and 19): images/second from upload to feature written, through the real local
 * stack (embedded S3 → object events → queue → extract handler → feature objects), beside the bare
 * model's throughput on the very graph the stack runs, interleaved in the same run (ratio target ≥ 0.85);
 * then where one batch's time goes, stage by stage, and the S3 requests each image costs.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadstartError } from '../src/errors.js';
import { mapLimit } from '../src/util/concurrency.js';
import { INGEST_STAGES, type BatchTiming, type IngestStage } from '../src/features/stages.js';
import { createS3Client, S3Store, type ObjectStore } from '../src/store/index.js';
import { extractSessions } from '../functions/shared/pipeline.js';
import { getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { BareOnnxSession } from './bare-onnx.js';
import { CLASSIFY_MODELS } from './classify.js';
import type { SectionContext } from './context.js';
import { describeMix, loadBenchImages, preprocessBatches, withMarker, type BenchImage } from './images.js';
import { exportedGraph, type BenchStack } from './stack.js';
import { median } from './stats.js';
import type { BenchTable, Cell, Column } from './table.js';

/** Every zoo model, cheapest first; DenseNet121 with the real weights of ../shared. */
export const INGEST_MODELS: readonly ModelId[] = ['mobilenet_v2', 'densenet121', 'resnet50', 'inception_v3', 'vgg16', 'vgg19'];
export const QUICK_INGEST_MODELS: readonly ModelId[] = ['mobilenet_v2', 'densenet121'];
export const INGEST_TARGET = 0.85;
/** Parallel uploads, as `aws s3 cp --recursive` (10) or `headstart upload` would run them. */
const UPLOAD_CONCURRENCY = 8;
/** The model batch (the pipeline's default), for the bare engine too. */
const BATCH = 8;
/** Give up when the stack stops making progress for this long. */
const STALL_MS = 120_000;

/**
 * Untimed ingest before the rounds, as in a server that has been running: at least this many images, or
 * this long. The CPU per image of both processes falls for the first ≈ 1,000 images as V8 compiles the
 * S3 client's, the embedded server's and our hot code (MobileNetV2, passes of 256: 41.6, 37.0, 33.3, 30.0,
 * then 28–33 CPU ms/img; bench/ingest-profile.ts with HEADSTART_PROFILE_WARM, docs/benchmarks.md).
 */
const WARM_IMAGES = 1024;
const WARM_MS = 60_000;

/**
 * A timed ingest pass lasts at least this long, from the warm-up's rate (the set repeated under new bytes
 * and names), with at most MAX_PASS_IMAGES: a pass of 64 MobileNetV2 images took 1.8 s, a third of it the
 * pipeline filling (the first batch window) and draining (the last model batch and its writes).
 */
const MIN_PASS_MS = 5_000;
const MAX_PASS_IMAGES = 1024;
/** The bare pass: whole passes over the set's batches for at least this long. */
const MIN_BARE_MS = 2_000;

const ingestPlan = (quick: boolean) => (quick ? { images: 64, rounds: 1 } : { images: 128, rounds: 2 });

/** Linux's clock tick (`getconf CLK_TCK`): /proc/<pid>/stat counts CPU time in these. */
const TICK_MS = 10;

/** CPU milliseconds the S3 server's process has used so far (all its threads); NaN where /proc cannot say. */
function serverCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU milliseconds used so far by this process (all its threads: the event loop, the ONNX Runtime worker,
 * sharp's and libuv's pools) and by the S3 server's process.
 */
function cpuMs(pid: number | undefined): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1000 + serverCpuMs(pid);
}

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

interface IngestPass {
  /** Seconds until the last upload was acknowledged. */
  uploadSeconds: number;
  /** Seconds until the last feature was written. */
  seconds: number;
  /** CPU milliseconds the pass used, uploads included: this process and the S3 server's. */
  cpuMs: number;
  /** Of which the S3 server's process (in the cloud: S3's, not ours). */
  serverCpuMs: number;
}

/** Upload → every feature written; checks that each image got its own new feature and nothing failed. */
export async function timeIngest(bench: BenchStack, store: ObjectStore, images: readonly BenchImage[], tag: string): Promise<IngestPass> {
  const before = bench.stack.queue.stats();
  const featuresBefore = await countFeatures(store);
  const prefix = `images/bench-${tag}/`;
  const cpuBefore = cpuMs(bench.stack.s3.pid);
  const serverBefore = serverCpuMs(bench.stack.s3.pid);
  const started = performance.now();
  await mapLimit(images, UPLOAD_CONCURRENCY, (image) =>
    store.put(`${prefix}${image.label}/${image.name}`, image.bytes, { contentType: `image/${image.format}` }),
  );
  const uploadSeconds = (performance.now() - started) / 1000;
  await waitForDeliveries(bench, before.delivered + before.deadLettered + before.deadLetterFailures, images.length);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMs(bench.stack.s3.pid) - cpuBefore;
  const serverCpu = serverCpuMs(bench.stack.s3.pid) - serverBefore;
  const after = bench.stack.queue.stats();
  const written = (await countFeatures(store)) - featuresBefore;
  if (after.deadLettered !== before.deadLettered || written !== images.length) {
    throw new HeadstartError('BenchIngest', `${bench.model}: ${written} of ${images.length} features written, ${after.deadLettered - before.deadLettered} dead letters.`);
  }
  return { uploadSeconds, seconds, cpuMs: cpu, serverCpuMs: serverCpu };
}

/** The bare engine's pass: the stack's own exported graph on the same images, preprocessed beforehand. */
async function bareRunner(bench: BenchStack, images: readonly BenchImage[]): Promise<{ pass(): Promise<{ rate: number; cpuMsPerImage: number }>; release(): Promise<void> }> {
  const spec = getModelSpec(bench.model);
  const session = await BareOnnxSession.create(await exportedGraph(bench.home, bench.model));
  const size: [number, number] = [spec.inputSize, spec.inputSize];
  const batches = await preprocessBatches(images, size, spec.preprocess, BATCH);
  await session.run(batches[0]!.batch, batches[0]!.n, ...size);
  return {
    async pass() {
      const cpuBefore = cpuMs(bench.stack.s3.pid);
      const started = performance.now();
      let done = 0;
      do {
        for (const { batch, n } of batches) await session.run(batch, n, ...size);
        done += images.length;
      } while (performance.now() - started < MIN_BARE_MS);
      return { rate: done / ((performance.now() - started) / 1000), cpuMsPerImage: (cpuMs(bench.stack.s3.pid) - cpuBefore) / done };
    },
    release: () => session.release(),
  };
}

/** Whole passes of the set, under new bytes each, until WARM_IMAGES went through or WARM_MS passed. */
async function warmUp(context: SectionContext, bench: BenchStack, store: ObjectStore, images: readonly BenchImage[]): Promise<{ images: number; rate: number }> {
  const started = performance.now();
  const cpuPerImage: number[] = [];
  let done = 0;
  let rate = 0;
  while (done < WARM_IMAGES && performance.now() - started < WARM_MS) {
    const pass = await timeIngest(bench, store, images.map((i) => withMarker(i, `warm-up ${done}`)), `${Date.now()}-warm`);
    done += images.length;
    cpuPerImage.push(pass.cpuMs / images.length);
    rate = images.length / pass.seconds;
  }
  context.log(`ingest: ${bench.model} warmed with ${done} images, CPU ms/img by pass ${cpuPerImage.map((c) => c.toFixed(1)).join(', ')}`);
  return { images: done, rate };
}

/** `count` images: the set over and over, each copy under new bytes (`marker`) and its own names. */
export function repeatSet(images: readonly BenchImage[], count: number, marker: string): BenchImage[] {
  return Array.from({ length: count }, (_, i) => {
    const copy = Math.floor(i / images.length);
    const image = withMarker(images[i % images.length]!, `${marker} ${copy}`);
    return { ...image, name: `${copy}-${image.name}` };
  });
}

interface ModelResult {
  row: Record<string, Cell>;
  stages: Record<string, Cell>;
}

async function benchModel(context: SectionContext, model: ModelId, images: readonly BenchImage[], rounds: number): Promise<ModelResult> {
  const bench = await context.stacks.get(model);
  const store = new S3Store(createS3Client({ endpoint: bench.stack.s3.endpoint }), bench.stack.s3.bucket);
  const bare = await bareRunner(bench, images);
  try {
    const warm = await warmUp(context, bench, store, images);
    const copies = Math.ceil(Math.min(MAX_PASS_IMAGES, Math.max(images.length, (warm.rate * MIN_PASS_MS) / 1000)) / images.length);
    const passImages = copies * images.length;
    bench.timings.ingest.length = 0;
    bench.timings.queue.length = 0;
    const ingestRates: number[] = [];
    const bareRates: number[] = [];
    const ingestCpu: number[] = [];
    const serverCpu: number[] = [];
    const bareCpu: number[] = [];
    let last: IngestPass | undefined;
    for (let round = 0; round < rounds; round++) {
      // Bare and ingest back to back, round after round: a neighbour's burst of load hits both alike.
      const pass = await bare.pass();
      bareRates.push(pass.rate);
      bareCpu.push(pass.cpuMsPerImage);
      const marked = repeatSet(images, passImages, `round ${round} ${Date.now()}`);
      last = await timeIngest(bench, store, marked, `${Date.now()}-${round}`);
      ingestRates.push(passImages / last.seconds);
      ingestCpu.push(last.cpuMs / passImages);
      serverCpu.push(last.serverCpuMs / passImages);
      context.log(`ingest: ${model} round ${round + 1}/${rounds}: ingest ${ingestRates.at(-1)!.toFixed(2)} img/s, bare ${bareRates.at(-1)!.toFixed(2)} img/s`);
    }
    const ingest = median(ingestRates);
    const bareRate = median(bareRates);
    const { ingest: batches, queue } = bench.timings;
    const imagesSeen = batches.reduce((n, b) => n + b.images, 0);
    const requests = batches.reduce((n, b) => n + b.requests.GET + b.requests.HEAD + b.requests.PUT, 0);
    const handlerMs = queue.reduce((n, b) => n + b.handlerMs, 0);
    const name = getModelSpec(model).displayName;
    return {
      row: {
        model: name,
        weights: bench.weights,
        // What the stack's pipeline opened (the same rule, or HEADSTART_SESSIONS).
        sessions: extractSessions(model) ?? Number(process.env.HEADSTART_SESSIONS),
        images: passImages * rounds,
        warmImages: warm.images,
        uploadSeconds: last!.uploadSeconds,
        seconds: last!.seconds,
        ingest,
        bare: bareRate,
        ratio: ingest / bareRate,
        bareCpu: median(bareCpu),
        ingestCpu: median(ingestCpu),
        cpuRatio: median(bareCpu) / median(ingestCpu),
        serverCpu: median(serverCpu),
        // Without the S3 server's share: the extract function's own CPU, as in the cloud, where S3 is not on its cores.
        cpuRatioOwn: median(bareCpu) / (median(ingestCpu) - median(serverCpu)),
        // The upload itself is one more request per image.
        requests: requests / imagesSeen + 1,
        handlerMs: handlerMs / imagesSeen,
      },
      stages: { model: name, ...medianBatch(batches, queue.map((q) => q.receiveMs), queue.map((q) => q.ackMs)) },
    };
  } finally {
    await bare.release();
    // Only the classify section reuses a stack: free the others' memory before the next model.
    if (!CLASSIFY_MODELS.includes(model)) await context.stacks.release(model);
  }
}

/** One batch's stages: the median batch by wall time among the full ones (most images), with the queue's medians. */
function medianBatch(batches: readonly BatchTiming[], receiveMs: number[], ackMs: number[]): Record<string, Cell> {
  if (batches.length === 0) return {};
  const most = Math.max(...batches.map((b) => b.images));
  const full = batches.filter((b) => b.images === most).sort((a, b) => a.wallMs - b.wallMs);
  const batch = full[full.length >> 1]!;
  const cells: Record<string, Cell> = { batches: batches.length, batchImages: batch.images, wallMs: batch.wallMs };
  for (const stage of INGEST_STAGES) cells[stage] = batch.stages[stage]?.busyMs ?? null;
  if (receiveMs.length) cells.receive = median(receiveMs);
  if (ackMs.length) cells.ack = median(ackMs);
  const requests = batch.requests;
  cells.requests = `${requests.GET} GET, ${requests.HEAD} HEAD, ${requests.PUT} PUT`;
  return cells;
}

const STAGE_LABELS: Record<IngestStage, string> = {
  receive: 'receive',
  get: 'GET image',
  check: 'check',
  decode: 'decode',
  preprocess: 'preprocess',
  infer: 'infer',
  encode: 'encode',
  putFeature: 'PUT feature',
  putLink: 'PUT link',
  ack: 'ack',
};

export async function runIngest(context: SectionContext): Promise<BenchTable[]> {
  const plan = ingestPlan(context.args.quick);
  const models = context.args.models ?? (context.args.quick ? QUICK_INGEST_MODELS : INGEST_MODELS);
  const images = await loadBenchImages(plan.images);
  const results: ModelResult[] = [];
  for (const model of models) {
    context.log(`ingest: ${model}, ${plan.rounds} × ${images.length} uploads`);
    results.push(await benchModel(context, model, images, plan.rounds));
  }
  const stageColumns: Column[] = INGEST_STAGES.map((stage) => ({ key: stage, label: `${STAGE_LABELS[stage]} ms`, digits: 1 }));
  return [
    {
      id: 'ingest',
      title: 'Ingest: upload → feature written, images/second (local stack)',
      command: context.command,
      columns: [
        { key: 'model', label: 'model' },
        { key: 'weights', label: 'weights' },
        { key: 'sessions', label: 'ORT sessions' },
        { key: 'images', label: 'images' },
        { key: 'warmImages', label: 'warm-up images' },
        { key: 'uploadSeconds', label: 'last upload done s', digits: 1 },
        { key: 'seconds', label: 'last feature written s', digits: 1 },
        { key: 'ingest', label: 'ingest img/s', digits: 2 },
        { key: 'bare', label: 'bare model img/s', digits: 2 },
        { key: 'ratio', label: `ratio (≥ ${INGEST_TARGET})`, digits: 2 },
        { key: 'bareCpu', label: 'bare CPU ms/img', digits: 1 },
        { key: 'ingestCpu', label: 'ingest CPU ms/img', digits: 1 },
        { key: 'cpuRatio', label: 'CPU ratio', digits: 2 },
        { key: 'serverCpu', label: 'of ingest CPU: S3 server ms/img', digits: 1 },
        { key: 'cpuRatioOwn', label: 'CPU ratio without the S3 server', digits: 2 },
        { key: 'requests', label: 'S3 requests/img', digits: 2 },
        { key: 'handlerMs', label: 'handler ms/img', digits: 1 },
      ],
      rows: results.map((r) => r.row),
      notes: [
        `startDevStack in this process (event queue, extract handler, ONNX Runtime in a worker thread; the embedded s3rver in a child process; temp data dir and weights cache). Images: ${describeMix(images)}, uploaded ${UPLOAD_CONCURRENCY} at a time through the S3 API; the clock stops when the queue has settled every event and each image has its feature file.`,
        `After untimed ingest passes of the same set (warm-up images: at least ${WARM_IMAGES} or ${WARM_MS / 1000} s; warm connections and compiled code in both processes, as in a server that has been running), ${plan.rounds} round(s), each a bare pass (the set's batches, over again for at least ${MIN_BARE_MS / 1000} s) then an ingest pass of the set repeated to last at least ${MIN_PASS_MS / 1000} s at the warm-up's rate (at most ${MAX_PASS_IMAGES} images; the images column counts them), every copy under new bytes (a comment inside each file, so no pass is a cache hit); img/s columns are medians over rounds. The last/upload columns are the last round's.`,
        'Weights: DenseNet121 real (../shared/models/densenet121), the others random (no real weights here; imported into the temp cache, timing only).',
        `Bare: onnxruntime-node on the ONNX file the stack exported (same graph), the same images decoded and preprocessed beforehand, batches of ${BATCH}.`,
        'CPU ms/img: CPU time of the bench process (all threads: uploads, handler, ONNX Runtime worker, sharp) and of the S3 server process during the pass, over its images; CPU ratio = bare / ingest, what the img/s ratio would be on a machine with nothing else running and every core busy. It moves much less with the load than wall time does. Of it, the S3 server process: in the cloud that is S3\'s CPU, not the extract function\'s; CPU ratio without the S3 server = bare / (ingest − S3 server), the cloud-shaped figure (the uploader\'s ≈ 1.4 ms/img still counts against us).',
        'S3 requests/img: what the extract handler asked of S3 (GET, HEAD, PUT), plus the upload. Handler ms/img: the handler calls\' total duration over the images they carried (what Lambda would bill, on this machine\'s CPU).',
      ],
    },
    {
      id: 'ingest-stages',
      title: 'Ingest: where one batch\'s time goes, ms (local stack)',
      command: context.command,
      columns: [
        { key: 'model', label: 'model' },
        { key: 'batches', label: 'batches' },
        { key: 'batchImages', label: 'images in batch' },
        { key: 'wallMs', label: 'batch wall ms', digits: 1 },
        ...stageColumns,
        { key: 'requests', label: 'S3 requests in batch' },
      ],
      rows: results.map((r) => r.stages),
      notes: [
        'One batch: the median by wall time of the fullest batches (the queue delivers up to 32 records; the ingestor runs the model on 8 at a time). Each stage shows how long at least one of its operations was in progress (the union of their spans).',
        'Stages overlap on purpose: the next images are read (GET image, check) and the last ones written (encode, PUT feature, PUT link) while the model runs, so the stages add up to more than the wall time. check: GET of the feature key (absent for a new image; the link is read too when the feature exists).',
        'receive: the median wait from a record being queued to its batch reaching the handler (the batch window); ack: from the handler\'s answer to the queue marking the records done. Both are the local queue\'s; in the cloud they are SQS and the Lambda poller\'s, outside billed time.',
      ],
    },
  ];
}
