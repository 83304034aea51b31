import type { FinetuneJobRecord } from '../finetune/types.js';
import type { EpochLog, HeadSpec } from '../heads/types.js';

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
}

/** Any `jobs/<jobId>.json`: what GET /jobs/{id} shows and the launchers dispatch on (`kind`). */
export type StoredJob = JobRecord | FinetuneJobRecord;
