import sharp from 'sharp';
import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import { namespaceId, type FeatureCut, type FeatureNamespace } from '../../src/features/pipeline.js';
import { predictHead } from '../../src/heads/predict.js';
import type { HeadCache, HeadInfo } from '../../src/registry/index.js';
import type { ObjectStore } from '../../src/store/index.js';
import { finetunedPointerKey } from '../../src/finetune/keys.js';
import { openFinetunedPipeline } from '../../src/finetune/serve.js';
import { getModelSpec, MODEL_IDS } from '../../src/zoo/index.js';
import { keepForReview } from '../../src/datatools/reviews.js';
import { DEFAULT_LIMITS, type ImageSource, type RequestLimits } from './body.js';
import { HeadBaseMismatchError, ModelNotFoundError } from './errors.js';
import { PipelineCache, type ClassifyPipeline, type PipelineFactory } from './pipelines.js';
import { decideLabel, headTop, imagenetTop, type LabelDecision, type LabelScore } from './predictions.js';
import type { ClassifyQuery, FeaturesQuery } from './query.js';
import { loadSources, type LoadedSource } from './sources.js';

export interface ClassifyDeps {
  store: ObjectStore;
  /** The service's model (HEADSTART_MODEL): the default of `model` and what `warmUp` loads. */
  defaultModel: string;
  /** The service's feature cut (the feature cache's namespace), used by POST /features on `defaultModel`. */
  featureCut?: FeatureCut;
  /** Builds a pipeline; in the functions, weights from the local cache or the bucket (`pipelineFromConfig`). */
  createPipeline: PipelineFactory;
  /** Loaded heads, least recently used dropped beyond its size (`new HeadCache(store)`: 8). */
  heads: Pick<HeadCache, 'get'>;
  /**
   * Opens a published fine-tuned model: its classifier (probabilities, with `labels`) or its base's pooled
   * features. @default openFinetunedPipeline on `store` (src/finetune/serve.ts)
   */
  createFinetunedPipeline?: (modelId: string, output: 'classifier' | 'features') => Promise<ClassifyPipeline>;
  /** The weights and ONNX cache ($HEADSTART_HOME) the default fine-tuned pipelines export into. */
  home?: string;
  /** @default 3 */
  maxPipelines?: number;
  limits?: Partial<RequestLimits>;
}

export type ImageResult =
  | ({ image: string | number; predictions: LabelScore[]; review?: KeptReview } & Partial<LabelDecision>)
  | { image: string | number; error: { code: string; message: string } };

export interface ClassifyOutcome {
  results: ImageResult[];
  /** The first image error, kept typed so a single-image request can answer with its status. */
  firstError?: HeadstartError;
  model: string;
  head?: string;
  /** decodeMs: reading bucket objects; inferMs: image decoding, the network, the head and top-k. */
  timings: { decodeMs: number; inferMs: number };
}

export interface FeaturesOutcome {
  features: Float32Array;
  shape: number[];
  namespace: FeatureNamespace;
  metadata: Record<string, string>;
  timings: { decodeMs: number; inferMs: number };
}

/** Pipelines of fine-tuned models share the cache with the zoo's under this prefix of the model key. */
const FINETUNED_KEY = 'finetuned:';
const finetunedModelKey = (modelId: string): string => `${FINETUNED_KEY}${modelId}`;

/** Where a request's images go: a zoo classifier, the feature cut of a head's base and then the head, or a fine-tuned model. */
interface Target {
  /** The pipeline cache's model key (`finetuned:<id>` for a fine-tuned model). */
  model: string;
  cut: FeatureCut;
  head?: { id: string; info: HeadInfo };
  finetuned?: string;
}

/** The fine-tuned model as a ClassifyPipeline that also knows its labels. */
async function finetunedClassifyPipeline(store: ObjectStore, modelId: string, output: 'classifier' | 'features', home?: string): Promise<ClassifyPipeline> {
  const { pipeline, labels } = await openFinetunedPipeline(store, modelId, { output, home });
  return {
    namespace: pipeline.namespace,
    featureShape: pipeline.featureShape,
    labels,
    extract: (inputs) => pipeline.extract(inputs),
    metadata: (source, dtype) => pipeline.metadata(source, dtype),
    dispose: () => pipeline.dispose(),
  };
}

/**
 * POST /classify and POST /features without HTTP: images in, labels or feature vectors out. Pipelines
 * stay warm per (model, cut) and heads in the injected cache, so only a process's first request per
 * model pays for loading it.
 */
export class ClassifyService {
  readonly limits: RequestLimits;
  private readonly pipelines: PipelineCache;

  constructor(private readonly deps: ClassifyDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    const finetuned = deps.createFinetunedPipeline ?? ((id, output) => finetunedClassifyPipeline(deps.store, id, output, deps.home));
    this.pipelines = new PipelineCache(
      (model, cut) => (model.startsWith(FINETUNED_KEY) ? finetuned(model.slice(FINETUNED_KEY.length), cut === 'classifier' ? 'classifier' : 'features') : deps.createPipeline(model, cut)),
      deps.maxPipelines,
    );
  }

  /** The (model, cut) pairs loaded now, least recently used first. */
  loadedPipelines(): string[] {
    return this.pipelines.keys();
  }

  async classify(sources: readonly ImageSource[], query: ClassifyQuery): Promise<ClassifyOutcome> {
    const target = await this.target(query);
    const started = performance.now();
    const loaded = await loadSources(this.deps.store, sources, this.limits.maxObjectBytes);
    const fetched = performance.now();
    const reviewDataset = reviewQueueOf(query, target);
    const { predictions, reviews } = await this.pipelines.use(target.model, target.cut, async (pipeline) => {
      if (target.head) assertSameBase(target.head.id, target.head.info.base, pipeline.namespace);
      const features: Array<Float32Array | undefined> = [];
      const tops = await this.predict(pipeline, loaded, target, query.top, features);
      const kept = reviewDataset ? await this.keepForReview(reviewDataset, pipeline, loaded, tops, features, target, query) : [];
      return { predictions: tops, reviews: kept };
    });
    const errors = loaded.map((source, i) => ('error' in source ? source.error : isError(predictions[i]) ? predictions[i] : undefined));
    return {
      results: loaded.map((source, i) => toResult(source.name, errors[i], predictions[i], query.minConfidence, reviews[i])),
      firstError: errors.find(isError),
      model: target.finetuned ?? target.model,
      ...(target.head ? { head: target.head.id } : {}),
      timings: { decodeMs: fetched - started, inferMs: performance.now() - fetched },
    };
  }

  /** The feature vector of one image, as the feature cache would store it for this model and cut. */
  async features(source: ImageSource, query: FeaturesQuery): Promise<FeaturesOutcome> {
    const { model, cut } = await this.featuresTarget(query);
    const started = performance.now();
    const [loaded] = await loadSources(this.deps.store, [source], this.limits.maxObjectBytes);
    if ('error' in loaded!) throw loaded.error;
    const fetched = performance.now();
    return this.pipelines.use(model, cut, async (pipeline) => {
      const [result] = await pipeline.extract([loaded.bytes]);
      if (!result!.ok) throw result!.error;
      return {
        features: result!.features,
        shape: result!.shape,
        namespace: pipeline.namespace,
        metadata: pipeline.metadata('key' in source ? source.key : 'request'),
        timings: { decodeMs: fetched - started, inferMs: performance.now() - fetched },
      };
    });
  }

  /** Loads the default model and runs one small picture through it, so the first real request is not the slow one. */
  async warmUp(): Promise<void> {
    const picture = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer();
    const [result] = await this.pipelines.use(this.deps.defaultModel, 'classifier', (pipeline) => pipeline.extract([picture]));
    if (!result!.ok) throw result!.error;
  }

  dispose(): void {
    this.pipelines.dispose();
  }

  /** A fine-tuned model's base gives one cut (its global average pooling); a zoo model, the asked or default one. */
  private async featuresTarget(query: FeaturesQuery): Promise<{ model: string; cut: FeatureCut }> {
    if (query.finetuned !== undefined) {
      await this.requirePublished(query.finetuned);
      return { model: finetunedModelKey(query.finetuned), cut: { pooling: 'avg' } };
    }
    const model = query.model ?? this.deps.defaultModel;
    return { model, cut: query.cut ?? (model === this.deps.defaultModel ? this.deps.featureCut : undefined) ?? { layer: getModelSpec(model).defaultFeatureLayer } };
  }

  private async target(query: ClassifyQuery): Promise<Target> {
    if (query.finetuned !== undefined) {
      await this.requirePublished(query.finetuned);
      return { model: finetunedModelKey(query.finetuned), cut: 'classifier', finetuned: query.finetuned };
    }
    if (query.head === undefined) return { model: query.model ?? this.deps.defaultModel, cut: 'classifier' };
    const { head: info } = await this.deps.heads.get(query.head);
    if (query.model !== undefined && query.model !== info.base.model) {
      throw new InvalidArgumentError(
        `Head '${query.head}' classifies ${info.base.model} features, not ${query.model}: leave out 'model' or set model=${info.base.model}.`,
      );
    }
    const cut: FeatureCut = info.base.pooling ? { pooling: info.base.pooling } : { layer: info.base.layer };
    return { model: info.base.model, cut, head: { id: query.head, info } };
  }

  /**
   * A fine-tuned model is served while it is published: one existence check of its pointer per request, so a
   * deleted model stops answering at once (its warm pipelines are dropped). `?model=` that is no zoo id and
   * no published fine-tuned model is an unknown model, whichever the caller meant.
   */
  private async requirePublished(modelId: string): Promise<void> {
    if (await this.deps.store.exists(finetunedPointerKey(modelId))) return;
    this.pipelines.drop(finetunedModelKey(modelId));
    throw new ModelNotFoundError(modelId, MODEL_IDS);
  }

  /**
   * The review-queue hook: an image goes to `reviews/<dataset>/` when the caller asked (`review=true`) or
   * its top score is under `minConfidence`, with its prediction, and with its feature vector when that is
   * a head's base features (the service's cut), so a person's label makes it trainable at once.
   */
  private async keepForReview(
    dataset: string,
    pipeline: ClassifyPipeline,
    loaded: LoadedSource[],
    tops: Array<LabelScore[] | HeadstartError | undefined>,
    features: Array<Float32Array | undefined>,
    target: Target,
    query: ClassifyQuery,
  ): Promise<Array<KeptReview | undefined>> {
    return Promise.all(
      tops.map(async (top, i) => {
        const source = loaded[i]!;
        if (!Array.isArray(top) || !('bytes' in source)) return undefined;
        const low = query.minConfidence !== undefined && (top[0]?.score ?? 0) < query.minConfidence;
        if (!query.review && !low) return undefined;
        const vector = target.head ? features[i] : undefined;
        const record = await keepForReview(this.deps.store, {
          dataset,
          bytes: source.bytes,
          reason: query.review ? 'requested' : 'lowConfidence',
          predictions: top,
          model: target.finetuned ?? target.model,
          head: target.head?.id,
          minConfidence: query.minConfidence,
          features: vector && { namespace: pipeline.namespace, vector, metadata: pipeline.metadata('review') },
        });
        return { id: record.id, reason: record.reason };
      }),
    );
  }

  /** Per source: its top labels, or the error its decoding hit; `features` gets each image's vector. */
  private async predict(
    pipeline: ClassifyPipeline,
    loaded: LoadedSource[],
    target: Target,
    top: number,
    features: Array<Float32Array | undefined> = [],
  ): Promise<Array<LabelScore[] | HeadstartError | undefined>> {
    const readable = loaded.flatMap((s, i) => ('bytes' in s ? [{ i, bytes: s.bytes }] : []));
    const out: Array<LabelScore[] | HeadstartError | undefined> = new Array(loaded.length);
    if (readable.length === 0) return out;
    const extracted = await pipeline.extract(readable.map((r) => r.bytes));
    const good = extracted.flatMap((result, j) => (result.ok ? [{ i: readable[j]!.i, features: result.features }] : []));
    for (const g of good) features[g.i] = g.features;
    extracted.forEach((result, j) => {
      if (!result.ok) out[readable[j]!.i] = result.error;
    });
    const rows = good.map((g) => g.features);
    const tops = target.head
      ? await this.headPredictions(target.head.id, rows, top)
      : target.finetuned
        ? headTop(concatRows(rows), pipeline.labels ?? [], top)
        : rows.map((row) => imagenetTop(row, top));
    good.forEach((g, j) => {
      out[g.i] = tops[j];
    });
    return out;
  }

  /**
   * The head runs right after a fresh `get`: the cache owns and may dispose its models, so one is never
   * kept across an await (the extraction above can take a while).
   */
  private async headPredictions(headId: string, rows: Float32Array[], top: number): Promise<LabelScore[][]> {
    if (rows.length === 0) return [];
    const { model, head } = await this.deps.heads.get(headId);
    return headTop(predictHead(model, concatRows(rows), rows[0]!.length), head.labels, top);
  }
}

/** Equal namespaces give equal features; a head is only meaningful on the features it was trained on. */
function assertSameBase(headId: string, base: FeatureNamespace, service: FeatureNamespace): void {
  const same = namespaceId(base) === namespaceId(service) && (base.pooling ?? null) === (service.pooling ?? null);
  if (!same) throw new HeadBaseMismatchError(headId, base, service);
}

/** Equal-length rows as one [rows, dim] matrix. */
function concatRows(rows: readonly Float32Array[]): Float32Array {
  const dim = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, r) => out.set(row, r * dim));
  return out;
}

function isError(value: unknown): value is HeadstartError {
  return value instanceof HeadstartError;
}

function toResult(image: string | number, error: HeadstartError | undefined, prediction: unknown, minConfidence: number | undefined, review?: KeptReview): ImageResult {
  if (error) return { image, error: { code: error.code, message: error.message } };
  const predictions = prediction as LabelScore[];
  return { image, ...decideLabel(predictions, minConfidence), predictions, ...(review ? { review } : {}) };
}

/** An image kept in a review queue: its review id and why. */
export interface KeptReview {
  id: string;
  reason: string;
}

/** The dataset whose review queue this request feeds, if any: `dataset`, else the head's training dataset. */
function reviewQueueOf(query: ClassifyQuery, target: Target): string | undefined {
  if (!query.review && query.minConfidence === undefined) return undefined;
  const dataset = query.dataset ?? target.head?.info.dataset;
  if (!dataset) {
    throw new InvalidArgumentError("'review' and 'minConfidence' keep images in a dataset's review queue: add 'dataset=<name>' (a head defaults to its training dataset).");
  }
  return dataset;
}
