import type { EpochLog, HeadMetrics } from '../heads/types.js';
import type { AugmentOptions, FinetuneRequest, UnfreezeSpec } from '../jobs/types.js';
import type { PublishedPointer } from '../registry/pointer.js';
import type { Interpolation, PreprocessMode } from '../zoo/types.js';

// What a fine-tuning job asks for lives with the job records (src/jobs), which the API writes without model code.
export type { AugmentOptions, FinetuneJobRecord, FinetuneRequest, UnfreezeSpec } from '../jobs/types.js';

export type ResolvedAugment = Required<AugmentOptions>;

export interface ResolvedFinetuneRequest extends Omit<Required<FinetuneRequest>, 'fromHead' | 'augment' | 'modelId'> {
  fromHead: string | null;
  augment: ResolvedAugment | null;
  modelId: string | null;
}

/** `config.json` of a published fine-tuned model. */
export interface FinetunedConfig {
  format: 'headstart-finetuned';
  formatVersion: 1;
  modelId: string;
  dataset: string;
  /** Class names in output order (sorted, as Keras orders class folders). */
  labels: string[];
  /** The model's input: what `loadImage` + `preprocessInto` must produce. */
  input: { size: [number, number]; preprocess: PreprocessMode; interpolation: Interpolation };
  base: {
    model: string;
    /** 'imagenet', a path, or null (random). */
    weights: string | null;
    /** Digest of the pretrained weights fine-tuning started from (null: random). */
    weightsDigest: string | null;
  };
  /** The fine-tuned base as a feature extractor: its own weights digest, so its features get their own cache namespace. */
  finetunedBase: { weightsDigest: string; layer: string; pooling: 'avg'; namespace: string };
  unfreeze: { spec: UnfreezeSpec; firstLayer: string | null; trainableLayers: number; trainableParams: number; frozenParams: number };
  head: { fromHead: string | null; layers: string[] };
  training: {
    request: ResolvedFinetuneRequest;
    epochs: number;
    bestEpoch: number;
    rows: { train: number; validation: number };
    /** Images left out because they could not be decoded. */
    skipped: { key: string; code: string }[];
    backend: string;
    durationMs: number;
    /** Epochs restored from a checkpoint when the job resumed (0: ran in one go). */
    resumedFromEpoch: number;
  };
  library: string;
  createdAt: string;
  jobId: string;
}

/** `metrics.json`: the best epoch evaluated on the validation images (training images without a split). */
export interface FinetunedMetricsFile extends HeadMetrics {
  evaluatedOn: 'validation-split' | 'training';
  rows: number;
  bestEpoch: number;
  history: EpochLog[];
}

/** What `GET /models` would show, kept in the pointer so a listing reads one small object. */
export interface FinetunedSummary {
  modelId: string;
  dataset: string;
  labels: string[];
  model: string;
  namespace: string;
  accuracy: number;
  createdAt: string;
  jobId: string;
}

/** `_published.json`, written last, with the digests of every file (the registry's one pointer shape). */
export type FinetunedPointer = PublishedPointer<FinetunedSummary>;

export interface FinetuneResult {
  jobId: string;
  modelId: string;
  labels: string[];
  history: EpochLog[];
  bestEpoch: number;
  metrics: FinetunedMetricsFile;
  config: FinetunedConfig;
}
