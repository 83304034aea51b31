/**
 * Pipeline table (issue 6): the whole extraction path — decode real JPEG/PNG bytes, preprocess, infer,
 * encode each result as safetensors — against the bare engine running the same batches already
 * preprocessed. The ratio is what the pipeline costs on top of the model (target ≥ 0.85).
 */
import { encodeSafetensors } from '../src/features/format/safetensors.js';
import { FeaturePipeline } from '../src/features/pipeline.js';
import { HeadstartError } from '../src/errors.js';
import { exportToOnnx } from '../src/engine/onnx/index.js';
import { buildModel, featureExtractor, getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { BareOnnxSession } from './bare-onnx.js';
import type { SectionContext } from './context.js';
import { describeMix, loadBenchImages, preprocessBatches, type BenchImage } from './images.js';
import { median, timeInterleaved, type TimingPlan } from './stats.js';
import type { BenchTable, Cell } from './table.js';

export const PIPELINE_MODELS: readonly ModelId[] = ['mobilenet_v2', 'resnet50', 'vgg16', 'inception_v3', 'densenet121'];
export const QUICK_PIPELINE_MODELS: readonly ModelId[] = ['mobilenet_v2'];
export const PIPELINE_TARGET = 0.85;
/** The pipeline's default batch size, and the bare engine's. */
const BATCH = 8;

const pipelinePlan = (quick: boolean): Required<TimingPlan> & { images: number } =>
  quick ? { images: 24, warmup: 1, runs: 2, minMs: 3_000, maxRuns: 6 } : { images: 64, warmup: 1, runs: 5, minMs: 15_000, maxRuns: 15 };

/** The bare engine: the same architecture exported by itself (its own random weights: same arithmetic). */
async function bareSession(id: ModelId): Promise<BareOnnxSession> {
  const model = buildModel(id);
  try {
    return await BareOnnxSession.create(exportToOnnx(featureExtractor(model, { layer: getModelSpec(id).defaultFeatureLayer })));
  } finally {
    model.dispose();
  }
}

/** One pass of the pipeline over every image, ending with the bytes that would be stored. */
async function extractAndEncode(pipeline: FeaturePipeline, images: readonly BenchImage[]): Promise<number> {
  const results = await pipeline.extract(images.map((i) => i.bytes));
  let bytes = 0;
  results.forEach((result, i) => {
    if (!result.ok) throw new HeadstartError('BenchPipeline', `${images[i]!.name}: ${result.error.message}`);
    const file = encodeSafetensors({ features: { dtype: 'F32', shape: result.shape, data: result.features } }, pipeline.metadata(images[i]!.name));
    bytes += file.byteLength;
  });
  return bytes;
}

async function benchModel(id: ModelId, images: readonly BenchImage[], plan: TimingPlan): Promise<Record<string, Cell>> {
  const spec = getModelSpec(id);
  const pipeline = await FeaturePipeline.create({ model: id, weights: null, engine: 'onnx', batchSize: BATCH });
  const bare = await bareSession(id).catch((error: unknown) => {
    pipeline.dispose();
    throw error;
  });
  try {
    const [h, w] = pipeline.namespace.inputSize;
    const prepStarted = performance.now();
    const batches = await preprocessBatches(images, [h, w], spec.preprocess, BATCH);
    const prepMs = (performance.now() - prepStarted) / images.length;
    const times = await timeInterleaved(
      {
        pipeline: () => extractAndEncode(pipeline, images),
        bare: async () => {
          for (const { batch, n } of batches) await bare.run(batch, n, h, w);
        },
      },
      plan,
    );
    const pipelineRate = images.length / (median(times.pipeline) / 1000);
    const bareRate = images.length / (median(times.bare) / 1000);
    return { model: spec.displayName, engine: pipeline.engine, sessions: pipeline.sessions, images: images.length, pipeline: pipelineRate, bare: bareRate, ratio: pipelineRate / bareRate, prepMs };
  } finally {
    pipeline.dispose();
    await bare.release();
  }
}

export async function runPipeline(context: SectionContext): Promise<BenchTable[]> {
  const plan = pipelinePlan(context.args.quick);
  const models = context.args.models ?? (context.args.quick ? QUICK_PIPELINE_MODELS : PIPELINE_MODELS);
  const images = await loadBenchImages(plan.images);
  const rows: Array<Record<string, Cell>> = [];
  for (const id of models) {
    context.log(`pipeline: ${id}`);
    rows.push(await benchModel(id, images, plan));
  }
  return [
    {
      id: 'pipeline',
      title: 'Extraction pipeline vs bare engine: images/second',
      command: context.command,
      columns: [
        { key: 'model', label: 'model' },
        { key: 'engine', label: 'engine' },
        { key: 'sessions', label: 'ORT sessions (HEADSTART_SESSIONS)' },
        { key: 'images', label: 'images' },
        { key: 'pipeline', label: 'pipeline img/s (decode → preprocess → infer → safetensors)', digits: 2 },
        { key: 'bare', label: 'bare ORT img/s (same batches, preprocessed)', digits: 2 },
        { key: 'ratio', label: `ratio (≥ ${PIPELINE_TARGET})`, digits: 2 },
        { key: 'prepMs', label: 'decode + preprocess ms/img (alone)', digits: 1 },
      ],
      rows,
      notes: [
        `Images: ${describeMix(images)} from ../shared (photos, resized copies, fashion-mnist); batches of ${BATCH}, as the pipeline batches them.`,
        `Random weights. Median of ${plan.runs}–${plan.maxRuns} passes over all images (at least ${plan.minMs / 1000} s) after ${plan.warmup} warm-up, pipeline and bare interleaved.`,
        'The bare engine is a bare onnxruntime-node session on the same architecture exported by itself, fed tensors decoded and preprocessed beforehand.',
      ],
    },
  ];
}
