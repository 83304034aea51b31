/**
 * Classify table (issue 5): POST /classify against the warm local server, 8 requests in flight, with
 * latency percentiles, errors, and RSS and TF.js tensor counts after warm-up and at the end (flat means
 * no leak). The server runs in this process, so tf.memory() is the server's.
 */
import { tf } from '../src/engine/backend.js';
import { mapLimit } from '../src/util/concurrency.js';
import { getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import type { SectionContext } from './context.js';
import { describeMix, loadPhotos, type BenchImage } from './images.js';
import { mean, median, percentile, toMiB } from './stats.js';
import type { BenchTable, Cell } from './table.js';

export const CLASSIFY_MODELS: readonly ModelId[] = ['mobilenet_v2', 'densenet121'];
export const CONCURRENCY = 8;
const TOP = 5;

const classifyPlan = (quick: boolean) => ({ warmup: 16, requests: quick ? 100 : 500 });

interface Sample {
  ms: number;
  ok: boolean;
  error?: string;
}

/** One request; a wrong status or a body without `top` predictions counts as an error. */
async function classifyOnce(url: string, image: BenchImage): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': `image/${image.format}` }, body: image.bytes });
    const text = await response.text();
    const ms = performance.now() - started;
    const predictions = response.ok ? (JSON.parse(text) as { predictions?: unknown[] }).predictions : undefined;
    if (predictions?.length === TOP) return { ms, ok: true };
    return { ms, ok: false, error: `${response.status} ${text.slice(0, 200)}` };
  } catch (error) {
    return { ms: performance.now() - started, ok: false, error: (error as Error).message };
  }
}

const memory = () => ({ rss: toMiB(process.memoryUsage().rss), tensors: tf.memory().numTensors });

async function benchModel(context: SectionContext, model: ModelId, photos: readonly BenchImage[]): Promise<Record<string, Cell>> {
  const bench = await context.stacks.get(model);
  const url = `${bench.stack.api.url}/classify?top=${TOP}`;
  const plan = classifyPlan(context.args.quick);
  const send = (i: number) => classifyOnce(url, photos[i % photos.length]!);
  await mapLimit(Array.from({ length: plan.warmup }, (_, i) => i), CONCURRENCY, send);
  const warm = memory();
  context.log(`classify: ${model}, ${plan.requests} requests`);
  const started = performance.now();
  const samples = await mapLimit(Array.from({ length: plan.requests }, (_, i) => i), CONCURRENCY, send);
  const seconds = (performance.now() - started) / 1000;
  const end = memory();
  const latencies = samples.map((s) => s.ms);
  const failed = samples.filter((s) => !s.ok);
  if (failed.length > 0) context.log(`classify: ${model}: ${failed.length} errors, first: ${failed[0]!.error}`);
  return {
    model: getModelSpec(model).displayName,
    weights: bench.weights,
    requests: plan.requests,
    p50: median(latencies),
    p99: percentile(latencies, 99),
    mean: mean(latencies),
    rate: plan.requests / seconds,
    errors: failed.length,
    rssWarm: warm.rss,
    rssEnd: end.rss,
    tensorsWarm: warm.tensors,
    tensorsEnd: end.tensors,
  };
}

export async function runClassify(context: SectionContext): Promise<BenchTable[]> {
  const photos = await loadPhotos();
  const rows: Array<Record<string, Cell>> = [];
  for (const model of CLASSIFY_MODELS) rows.push(await benchModel(context, model, photos));
  const plan = classifyPlan(context.args.quick);
  return [
    {
      id: 'classify',
      title: `POST /classify latency: ${CONCURRENCY} concurrent requests, warm local server`,
      command: context.command,
      columns: [
        { key: 'model', label: 'model' },
        { key: 'weights', label: 'weights' },
        { key: 'requests', label: 'requests' },
        { key: 'p50', label: 'p50 ms', digits: 0 },
        { key: 'p99', label: 'p99 ms', digits: 0 },
        { key: 'mean', label: 'mean ms', digits: 0 },
        { key: 'rate', label: 'req/s', digits: 1 },
        { key: 'errors', label: 'errors' },
        { key: 'rssWarm', label: 'RSS after warm-up MiB', digits: 0 },
        { key: 'rssEnd', label: 'RSS at end MiB', digits: 0 },
        { key: 'tensorsWarm', label: 'tensors after warm-up' },
        { key: 'tensorsEnd', label: 'tensors at end' },
      ],
      rows,
      notes: [
        `startDevStack in this process (s3rver in a child process, ONNX Runtime in worker threads); raw image bodies (${describeMix(photos)}: the ../shared photos and resized copies, in turn), ImageNet classifier, top ${TOP}; ${plan.warmup} warm-up requests, then ${plan.requests} timed.`,
        'Weights: DenseNet121 real (../shared), MobileNetV2 random (no real weights here: latency only, the labels are meaningless).',
        'Latency is client-side (request sent → body read) through the local API Gateway emulation; RSS is the whole bench process (server and client).',
      ],
    },
  ];
}
