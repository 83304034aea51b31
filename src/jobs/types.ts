import type { FinetuneJobRecord } from '../finetune/types.js';
import type { EpochLog, HeadSpec } from '../heads/types.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** 'train': a head on cached features (the train function); 'finetune': base + head on images (the GPU batch job). */
export const JOB_KINDS = ['train', 'finetune'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

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
  /** Head architecture and training settings; every field has a default. */
  head?: HeadSpec;
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

/** `jobs/<jobId>.json`. */
export interface JobRecord {
  jobId: string;
  kind: 'train';
  status: JobStatus;
  request: TrainRequest;
  createdAt: string;
  /** Last write of this record: a running job is updated at least once per epoch. */
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress;
  history: EpochLog[];
  data?: JobData;
  headId?: string;
  error?: JobError;
}

/** Any `jobs/<jobId>.json`: what GET /jobs/{id} shows and the launchers dispatch on (`kind`). */
export type StoredJob = JobRecord | FinetuneJobRecord;
