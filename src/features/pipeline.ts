import { createExtractor, engineSettings, type Extractor, type EngineName, type Precision } from '../engine/extractor.js';
import type { CalibrationBatch } from '../engine/onnx/quantize/index.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { HeadstartError } from '../errors.js';
import { loadImage, type DecodedImage } from '../image/load.js';
import { preprocessInto } from '../image/preprocess.js';
import { LIBRARY_VERSION } from '../version.js';
import { featureExtractor, getModelSpec } from '../zoo/index.js';
import type { Interpolation, ModelSpec, Pooling } from '../zoo/types.js';
import { defaultCalibrationImages } from './calibration.js';
import { precisionOf, type FeatureNamespace } from './namespace.js';
import type { StageRecorder } from './stages.js';

export { namespaceId, precisionOf, type FeatureNamespace } from './namespace.js';
import { headstartHome, loadModel } from '../weights/index.js';

/** Where to cut the network: a named layer, the no-top model plus global pooling, or the ImageNet classifier. */
export type FeatureCut = { layer: string } | { pooling: Pooling } | 'classifier';

export interface PipelineOptions {
  model: string;
  /** @default the model's default feature layer (DESIGN.md) */
  cut?: FeatureCut;
  /** 'imagenet' (the cache), a weights file/folder, or null (random, tests only). @default 'imagenet' */
  weights?: 'imagenet' | string | null;
  /** @default 'nearest', as Keras load_img */
  interpolation?: Interpolation;
  /** @default HEADSTART_ENGINE or 'auto' */
  engine?: EngineName | 'auto';
  backend?: string;
  /** ONNX Runtime intra-op threads. @default HEADSTART_THREADS, else ONNX Runtime's choice (the physical cores) */
  threads?: number;
  /**
   * ONNX Runtime sessions running batches side by side (their threads: the cores shared out among them).
   * @default HEADSTART_SESSIONS, else 1
   */
  sessions?: number;
  /** Images per model call. @default 8 */
  batchSize?: number;
  /** 'int8' extracts with the graph quantized from the fp32 export (its own feature namespace). @default HEADSTART_PRECISION, else 'fp32' */
  precision?: Precision;
  /**
   * Calibration images for 'int8' (bytes or paths; CALIBRATION_IMAGES of them, evenly spaced), needed only the first
   * time: the int8 graph is cached beside the fp32 export. @default the bundled set (DEFAULT_CALIBRATION)
   */
  calibration?: ReadonlyArray<Buffer | Uint8Array | string>;
  /** The weights and ONNX cache ($HEADSTART_HOME). */
  home?: string;
}


/** How many calibration images int8 quantization uses at most (measured enough for DenseNet121: docs/benchmarks.md). */
export const CALIBRATION_IMAGES = 32;

export type ExtractResult =
  | { ok: true; features: Float32Array; shape: number[] }
  | { ok: false; error: HeadstartError };


/**
 * Image bytes in, feature vectors out: decode (one image's failure stays its own), preprocess into one batch
 * buffer, one model call per batch. Loads the model once; reuse the instance (warm Lambda, server process).
 */
export class FeaturePipeline {
  private constructor(
    readonly spec: ModelSpec,
    readonly namespace: FeatureNamespace,
    readonly backend: BackendName,
    private readonly extractor: Extractor,
    /** Images per model call. */
    readonly batchSize: number,
  ) {}

  static async create(options: PipelineOptions): Promise<FeaturePipeline> {
    const spec = getModelSpec(options.model);
    const backend = await initBackend(options.backend);
    const cut = options.cut ?? { layer: spec.defaultFeatureLayer };
    const pooling = typeof cut === 'object' && 'pooling' in cut ? cut.pooling : null;
    const { model, weightsDigest } = await loadModel(spec.id, {
      weights: options.weights === undefined ? 'imagenet' : options.weights,
      includeTop: pooling === null,
      pooling,
      // A no-top model takes any size; the pipeline feeds the model's default, so fix it (static shapes export to ONNX).
      inputShape: pooling === null ? undefined : [spec.inputSize, spec.inputSize, 3],
      home: options.home,
    });
    const cutModel = cut === 'classifier' || pooling !== null ? model : featureExtractor(model, cut as { layer: string });
    const layer = cutModel.layers[cutModel.layers.length - 1]!.name;
    const digest = weightsDigest ?? 'random';
    // Random weights differ on every build: only real weights get a cached ONNX export.
    const cacheKey = `${spec.id}@${digest}/${layer}`;
    const settings = engineSettings({ engine: options.engine, threads: options.threads, sessions: options.sessions, precision: options.precision });
    const cache = weightsDigest ? { cacheDir: headstartHome(options.home), cacheKey } : {};
    const interpolation = options.interpolation ?? 'nearest';
    // Asked for only when no cached int8 graph fits: the caller's images, else the default set.
    const calibration = async () => {
      const images = spread(options.calibration ?? (await defaultCalibrationImages()), CALIBRATION_IMAGES);
      return calibrationBatches(images, [spec.inputSize, spec.inputSize], spec.preprocess, interpolation);
    };
    // The extractor takes the loaded model (the cut shares its layers): ONNX Runtime lets it go, TF.js keeps it.
    const extractor = await createExtractor(cutModel, { ...settings, ...cache, owns: model, calibration });
    const namespace: FeatureNamespace = {
      model: spec.id,
      weightsDigest: digest,
      layer,
      pooling,
      preprocess: spec.preprocess,
      inputSize: extractor.inputSize,
      interpolation,
      dtype: 'float32',
      ...(extractor.precision === 'int8' ? { precision: 'int8' as const } : {}),
    };
    return new FeaturePipeline(spec, namespace, backend, extractor, options.batchSize ?? 8);
  }

  /**
   * A pipeline over a model loaded elsewhere (a fine-tuned model from the registry): decoding, preprocessing
   * and batching as `create` does, with the caller's namespace. `inputSize` is the extractor's. The pipeline
   * owns the extractor.
   */
  static async wrap(options: {
    spec: ModelSpec;
    namespace: Omit<FeatureNamespace, 'inputSize'>;
    extractor: Extractor;
    batchSize?: number;
  }): Promise<FeaturePipeline> {
    const backend = await initBackend();
    const namespace: FeatureNamespace = { ...options.namespace, inputSize: options.extractor.inputSize };
    return new FeaturePipeline(options.spec, namespace, backend, options.extractor, options.batchSize ?? 8);
  }

  get engine(): EngineName {
    return this.extractor.engine;
  }

  /** Model batches inferred side by side: the extractor's ONNX Runtime sessions. */
  get sessions(): number {
    return this.extractor.sessions ?? 1;
  }

  /** Shape of one image's features, e.g. [1024] or [7, 7, 512]. */
  get featureShape(): number[] {
    return this.extractor.outputShape;
  }

  /** The `__metadata__` written with every feature tensor (DESIGN.md storage layout). */
  metadata(source: string, dtype: 'float32' | 'float16' = 'float32'): Record<string, string> {
    const ns = this.namespace;
    return {
      model: ns.model,
      weights_digest: ns.weightsDigest,
      layer: ns.layer,
      pooling: ns.pooling ?? 'none',
      preprocess: ns.preprocess,
      input_size: `${ns.inputSize[0]}x${ns.inputSize[1]}`,
      interpolation: ns.interpolation,
      dtype,
      precision: precisionOf(ns),
      engine: this.engine,
      source,
      library: `headstart ${LIBRARY_VERSION}`,
    };
  }

  /**
   * Extracts features for each input (bytes or a path); results are in input order, failures included.
   * `recorder` (an ingest batch's clock) times the decode, preprocess and infer stages.
   */
  async extract(inputs: ReadonlyArray<Buffer | Uint8Array | string>, recorder: StageRecorder = UNTIMED): Promise<ExtractResult[]> {
    const results: ExtractResult[] = new Array(inputs.length);
    // Decoding the next batch (sharp, on libuv's threads) overlaps inference of the ones before it (ONNX Runtime's
    // threads), and as many batches infer at once as the extractor has sessions.
    const calls = new Set<Promise<void>>();
    const parallel = this.sessions;
    let next = inputs.length > 0 ? this.decode(inputs.slice(0, this.batchSize), recorder) : undefined;
    for (let start = 0; next; start += this.batchSize) {
      const decoded = await next;
      const following = start + this.batchSize;
      next = following < inputs.length ? this.decode(inputs.slice(following, following + this.batchSize), recorder) : undefined;
      while (calls.size >= parallel) await Promise.race(calls);
      const call: Promise<void> = this.infer(decoded, recorder)
        .then((batch) => batch.forEach((result, i) => (results[start + i] = result)))
        .finally(() => calls.delete(call));
      // Awaited below (race, all); this only keeps a failure from counting as unhandled meanwhile.
      call.catch(() => undefined);
      calls.add(call);
    }
    await Promise.all(calls);
    return results;
  }

  /** One batch's images decoded to the model's input size; a bad image is a rejected entry, never a throw. */
  private decode(inputs: ReadonlyArray<Buffer | Uint8Array | string>, recorder: StageRecorder): Promise<PromiseSettledResult<DecodedImage>[]> {
    const [height, width] = this.namespace.inputSize;
    return recorder.time('decode', () =>
      Promise.allSettled(inputs.map((input) => loadImage(input, { targetSize: [height, width], interpolation: this.namespace.interpolation }))),
    );
  }

  /** Preprocesses the decoded images into one buffer and runs the model once. */
  private async infer(decoded: PromiseSettledResult<DecodedImage>[], recorder: StageRecorder): Promise<ExtractResult[]> {
    const [height, width] = this.namespace.inputSize;
    const good = decoded.flatMap((d, i) => (d.status === 'fulfilled' ? [{ i, image: d.value }] : []));
    const results: ExtractResult[] = decoded.map((d) =>
      d.status === 'rejected' ? { ok: false, error: asHeadstartError(d.reason) } : (undefined as never),
    );
    if (good.length === 0) return results;
    const pixels = height * width * 3;
    const batch = await recorder.time('preprocess', () => {
      const buffer = new Float32Array(good.length * pixels);
      good.forEach(({ image }, j) => preprocessInto(image.data, buffer, j * pixels, this.namespace.preprocess));
      return buffer;
    });
    const output = await recorder.time('infer', () => this.extractor.run(batch, good.length));
    const size = output.length / good.length;
    good.forEach(({ i }, j) => {
      results[i] = { ok: true, features: output.slice(j * size, (j + 1) * size), shape: this.featureShape };
    });
    return results;
  }

  dispose(): void {
    this.extractor.dispose();
  }
}

/** No clock: each stage just runs. */
const UNTIMED: StageRecorder = { time: async (_stage, run) => run() };

/** At most `count` items, evenly spaced (a class-folder listing gives every class its share). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/** Calibration images decoded and preprocessed as the pipeline does, in batches of 8; unreadable ones are skipped. */
export async function calibrationBatches(
  images: ReadonlyArray<Buffer | Uint8Array | string>,
  [height, width]: [number, number],
  preprocess: ModelSpec['preprocess'],
  interpolation: Interpolation,
): Promise<CalibrationBatch[]> {
  const decoded = await Promise.allSettled(images.map((image) => loadImage(image, { targetSize: [height, width], interpolation })));
  const good = decoded.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
  const pixels = height * width * 3;
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start < good.length; start += 8) {
    const chunk = good.slice(start, start + 8);
    const data = new Float32Array(chunk.length * pixels);
    chunk.forEach((image, j) => preprocessInto(image.data, data, j * pixels, preprocess));
    batches.push({ data, dims: [chunk.length, height, width, 3] });
  }
  return batches;
}

function asHeadstartError(error: unknown): HeadstartError {
  if (error instanceof HeadstartError) return error;
  return new HeadstartError('ImageFailed', `could not read image: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
