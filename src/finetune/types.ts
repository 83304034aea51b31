import type { EpochLog, HeadMetrics } from '../heads/types.js';
import type { PublishedPointer } from '../registry/pointer.js';
import type { JobRecordBase, WorkerStatus } from '../jobs/types.js';
import type { Interpolation, PreprocessMode } from '../zoo/types.js';

/**
 * Which base layers train: a layer name (that layer and every layer after it in `model.layers`), a block
 * prefix (`conv5`, `block5`, `block_16`, `mixed9`: the first layer named `<prefix>_…` and everything
 * after it), or the last N layers of the base. The head always trains.
 */
export type UnfreezeSpec = string | { lastN: number };

/** Random augmentation of training images (never of validation images), on decoded pixels. */
export interface AugmentOptions {
  /** Mirror left–right with probability 1/2. @default true */
  flip?: boolean;
  /** Zoom in by up to this fraction (a random crop of 1/(1+z) of each side, resized back). @default 0.1 */
  zoom?: number;
  /** Rotate by up to ± this many degrees. @default 10 */
  rotation?: number;
}

export type ResolvedAugment = Required<AugmentOptions>;

/** What `headstart finetune` and `POST /train { mode: 'finetune' }` ask for; `resolveFinetuneRequest` fills the defaults. */
export interface FinetuneRequest {
  /** Images under `images/<dataset>/<label>/`. */
  dataset: string;
  /** Zoo model id of the base, e.g. 'densenet121'. */
  model: string;
  unfreeze: UnfreezeSpec;
  /** Base weights: 'imagenet' (the cache), a weights file / TF.js folder, or null (random: tests only). @default 'imagenet' */
  weights?: 'imagenet' | string | null;
  /** Start from this published head (the two-stage recipe); absent: a fresh Dropout → Dense → Dense(softmax) head. */
  fromHead?: string;
  /** Square input size. @default the model's (224, InceptionV3 299) */
  inputSize?: number;
  /** Resize filter of load_img. @default 'nearest' (Keras) */
  interpolation?: Interpolation;
  /** @default 5 */
  epochs?: number;
  /** @default 8 */
  batchSize?: number;
  /** Adam learning rate: low, so the pretrained weights move a little. @default 1e-5 */
  learningRate?: number;
  /** Epochs without a better validation loss before stopping; the best epoch's weights are kept. @default 2 */
  patience?: number;
  /** Fraction of each label held out for validation (stratified, seeded). @default 0.2 */
  validationSplit?: number;
  /** Seeds the split, the shuffles, the dropout masks, the augmentation and a fresh head's weights. @default 42 */
  seed?: number;
  /** Dropout rate before the fresh head's hidden layer. @default 0.2 */
  dropout?: number;
  /** Units of the fresh head's hidden layer. @default 100 */
  hidden?: number;
  /** true for the default augmentation, or its settings. @default false */
  augment?: boolean | AugmentOptions;
  /**
   * Keep the frozen part's outputs of non-augmented images in memory after their first pass, so later
   * epochs and every validation run only the trainable part. @default true
   */
  cacheFrozen?: boolean;
  /** Id to publish under (`models/finetuned/<id>/`). @default `<dataset>-ft-<YYYYMMDD-HHMMSS>-<hex>` */
  modelId?: string;
}

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

/** `jobs/<jobId>.json` of a fine-tuning job: the training job's record with `kind: 'finetune'`. */
export interface FinetuneJobRecord extends JobRecordBase {
  kind: 'finetune';
  request: FinetuneRequest;
  /** Epochs the current run restored from the checkpoint. */
  resumedFromEpoch?: number;
  /** Shown by GET /jobs/{id} while queued (never stored): the runner's view, e.g. AWS Batch's RUNNABLE. */
  worker?: WorkerStatus;
  modelId?: string;
}
