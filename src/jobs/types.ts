import type { AutoHeadSpec, CandidateScore, SearchProgress } from '../heads/auto/types.js';
import type { EpochLog, HeadSpec } from '../heads/types.js';
import type { Interpolation } from '../zoo/types.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** What `POST /train` asks for (validated by parseTrainRequest). */
export interface TrainRequest {
  /** Images under `images/<dataset>/<label>/`. */
  dataset: string;
  /** Held-out images under `images/<validationDataset>/<label>/`; replaces head.validationSplit (Keras' validation_data). */
  validationDataset?: string;
  /** The base model the caller expects, e.g. 'densenet121'; must be the service's. */
  model?: string;
  /** The feature namespace the caller expects, `<model>@<weights-digest>/<layer>`; must be the service's. */
  namespace?: string;
  /**
   * `"auto"` (the default, also `{ type: "auto", … }`): the head chosen by cross-validation, refit on every
   * row and calibrated. An object of head settings (`{ hidden: [256], … }`) trains exactly that head.
   */
  head?: 'auto' | AutoHeadSpec | HeadSpec;
}

/** The latest epoch as the job shows it; values are null before the first epoch ends. */
export interface JobProgress {
  epoch: number;
  epochs: number;
  loss: number | null;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  etaMs: number | null;
  /** Batches done in the running epoch, of `batches` (fine-tuning, whose epochs are long, reports it as it goes). */
  batch?: number;
  batches?: number;
  /** An auto head's model selection: candidate i of n, fold j of k, then the refit and the calibration. */
  search?: SearchProgress;
  /** A prediction job's images: how many there are and where they stand (epoch fields stay 0). */
  images?: ImageProgress;
  /** A dataset issues job: where it stands (epoch fields stay 0). */
  issues?: IssuesProgress;
}

/** A dataset issues job's progress: 'queued', then 'computing' (rows read, finders running), then 'done'. */
export interface IssuesProgress {
  phase: 'queued' | 'computing' | 'done';
  /** Extracted images the issues are computed over (0 until the rows are read). */
  images: number;
}

/** A prediction job's progress over its images. */
export interface ImageProgress {
  /** 'listing' the prefix, 'extracting' what has no cached features, 'predicting' (the head pass), 'writing' the results. */
  phase: 'listing' | 'extracting' | 'predicting' | 'writing';
  /** Images under the prefix (0 while listing). */
  total: number;
  /** Images whose features were in the cache when the job started (they skip the base). */
  cached: number;
  /** Images the job extracted (and cached) first. */
  extracted: number;
  /** Images with a prediction so far. */
  predicted: number;
  /** Images that failed (each alone; `failures` in the record says why). */
  failed: number;
}

/** A failure a person can act on: `code` is stable, `message` says what to do. */
export interface JobError {
  code: string;
  message: string;
}

/** What training read: rows per side of the split and the images that could not be used. */
export interface JobData {
  dim: number;
  labels: string[];
  rows: { train: number; validation: number };
  /** Images of the dataset left out because their features are not there (yet). */
  skipped: { pending: number; failed: number };
}

/** What every `jobs/<jobId>.json` holds, whatever its kind. */
export interface JobRecordBase {
  jobId: string;
  status: JobStatus;
  createdAt: string;
  /** Last write of this record: a running job is updated at least once per epoch (fine-tuning: once a minute within one). */
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress;
  history: EpochLog[];
  error?: JobError;
}

/** A launched job as its runner sees it, e.g. AWS Batch's RUNNABLE while no GPU instance is free. */
export interface WorkerStatus {
  runner: 'aws-batch';
  /** SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED. */
  status: string;
  statusReason?: string;
  id?: string;
}

/** `jobs/<jobId>.json` of a head training job. */
export interface JobRecord extends JobRecordBase {
  kind: 'train';
  request: TrainRequest;
  data?: JobData;
  headId?: string;
  /** An auto head's cross-validation: every candidate's out-of-fold log-loss and accuracy (mean ± std), and the winner. */
  selection?: { chosen: string; reason: string; candidates: Omit<CandidateScore, 'folds'>[] };
}

// Fine-tuning: the request (`POST /train { mode: 'finetune' }`, `headstart finetune`) and its record.

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

// Batch prediction: `POST /predict`, `headstart predict` (src/predict runs it).

/** What `POST /predict` asks for (validated by parsePredictRequest): one of dataset/prefix, one of head/model. */
export interface PredictRequest {
  /** Every image under `images/<dataset>/`. */
  dataset?: string;
  /** Every image under this prefix of `images/`, e.g. `images/shop/_unlabelled/2025-06/`. */
  prefix?: string;
  /** A published head: cached features skip the base, the rest are extracted (and cached) first. */
  head?: string;
  /** A zoo model id (its ImageNet classifier) or a published fine-tuned model: every image runs the whole network. */
  model?: string;
  /** Labels kept per image. @default 5 */
  top?: number;
  /** POSTed the job's summary when it ends (http or https). */
  webhook?: string;
}

/** One image that could not be classified: it fails alone. */
export interface PredictFailure {
  key: string;
  code: string;
  message: string;
}

/** How the completion webhook went. */
export interface WebhookDelivery {
  url: string;
  delivered: boolean;
  attempts: number;
  /** HTTP status of the last attempt; null when it got no answer (refused, timed out). */
  lastStatus: number | null;
  /** Why the last attempt failed, when it did. */
  lastError?: string;
  at?: string;
  /**
   * True when this delivery was made by the startup recovery of a restarted server: the job had ended, but the server
   * died before its webhook's delivery was recorded (so the receiver may have had the first one too; dedupe on jobId).
   */
  afterRestart?: true;
}

/** `jobs/<jobId>.json` of a batch prediction job. */
export interface PredictJobRecord extends JobRecordBase {
  kind: 'predict';
  request: PredictRequest;
  /** `predictions/<jobId>/results.jsonl` and `.csv`, once written. */
  results?: { jsonl: string; csv: string };
  /** The first failures (at most PREDICT_FAILURES_KEPT; every one is in the results files). */
  failures?: PredictFailure[];
  /** The webhook's delivery, once tried. */
  webhook?: WebhookDelivery;
  /** Images per second over the whole job, once it ended. */
  imagesPerSecond?: number;
}

// Dataset issues: `GET /datasets/{name}/issues` above the synchronous limit (src/datatools/issues-job.ts runs it).

/** The dataset (and `against`) a dataset issues job computes, as GET /datasets/{name}/issues was asked. */
export interface IssuesRequest {
  dataset: string;
  against?: string;
}

/** `jobs/<jobId>.json` of a dataset issues job. */
export interface IssuesJobRecord extends JobRecordBase {
  kind: 'issues';
  request: IssuesRequest;
  /** The cache key its answer is written to (features/<ns>/issues/…), which GET /datasets/{name}/issues then serves. */
  cacheKey?: string;
  /** Once done: where the answer is and what it found. */
  result?: { key: string; images: number; duplicates: number; leakage: number; labelIssues: number; outliers: number; computeMs: number };
}

/** Any `jobs/<jobId>.json`: what GET /jobs/{id} shows and the launchers dispatch on (`kind`). */
export type StoredJob = JobRecord | FinetuneJobRecord | PredictJobRecord | IssuesJobRecord;
