import { HeadstartError, listValues } from '../errors.js';

/** No job record has this id. */
export class JobNotFoundError extends HeadstartError {
  constructor(readonly jobId: string) {
    super('JobNotFound', `No job '${jobId}': POST /train returns the id of the job it starts.`);
  }
}

/** Nothing under images/<dataset>/. */
export class UnknownDatasetError extends HeadstartError {
  constructor(dataset: string, known: readonly string[]) {
    const hint = known.length ? `known datasets: ${listValues(known)}` : 'the bucket has no datasets yet';
    super('UnknownDataset', `Dataset '${dataset}' has no images under images/${dataset}/<label>/ (${hint}).`);
  }
}

/** A classifier needs at least two class folders. */
export class TooFewLabelsError extends HeadstartError {
  constructor(dataset: string, labels: readonly string[]) {
    const found = labels.length ? `only ${listValues(labels)}` : 'none';
    super(
      'InsufficientLabels',
      `Dataset '${dataset}' needs at least 2 labels (class folders images/${dataset}/<label>/) to train a classifier; found ${found}.`,
    );
  }
}

export interface LabelFeatureCounts {
  label: string;
  images: number;
  pending: number;
  failed: number;
}

/** A label none of whose images has features (yet): training without it would silently drop a class. */
export class MissingFeaturesError extends HeadstartError {
  constructor(dataset: string, namespace: string, labels: readonly LabelFeatureCounts[]) {
    const list = labels.map((l) => `'${l.label}' (${l.images} images: ${l.pending} pending, ${l.failed} failed)`).join(', ');
    super(
      'MissingFeatures',
      `Dataset '${dataset}' has labels without extracted features in ${namespace}: ${list}. ` +
        'Wait for pending extractions (GET /datasets/' + dataset + '), replace failed images, or remove the label folder.',
    );
  }
}

/** The request names a base model or feature namespace that is not the service's. */
export class BaseModelMismatchError extends HeadstartError {
  constructor(field: 'model' | 'namespace', requested: string, actual: string) {
    super(
      'BaseModelMismatch',
      `The request asks for ${field} '${requested}', but this service extracts features with '${actual}': ` +
        `heads train on the service's features only (omit '${field}' or use '${actual}').`,
    );
  }
}

/** Training data or the head would not fit in this process's memory. */
export class OutOfMemoryError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OutOfMemory', message, options);
  }
}

/** POST /jobs/{id}/resume of a job that cannot resume: a head training job, or one that did not fail. */
export class JobNotResumableError extends HeadstartError {
  constructor(message: string) {
    super('NotResumable', message);
  }
}

/** A fine-tuning job asked of a deployment that has no fine-tuning worker. */
export class FinetuneUnavailableError extends HeadstartError {
  constructor() {
    super(
      'FinetuneUnavailable',
      'This deployment has no fine-tuning worker: deploy the stack with fine-tuning on (cdk deploy -c finetune=true, the GPU batch path), ' +
        "or train a head on cached features (omit 'mode').",
    );
  }
}

/** A batch prediction job asked of a deployment (or a recovery) that has no prediction runner. */
export class PredictUnavailableError extends HeadstartError {
  constructor() {
    super('PredictUnavailable', 'This deployment has no batch prediction runner: POST /predict needs the train function (cloud) or the local stack (npm start).');
  }
}

/** A dataset issues job asked of a deployment (or a recovery) that has no runner for it. */
export class IssuesUnavailableError extends HeadstartError {
  constructor() {
    super('IssuesUnavailable', "This deployment has no dataset issues job runner: compute them with 'headstart issues <dataset>' (cached for the API), or run the local stack (npm start) or the train function (cloud).");
  }
}

/**
 * The process running the job stopped (a crash, `kill -9`, a power cut) before the job recorded its end;
 * found when the local server starts again. Head training keeps no checkpoint, so it fails with this.
 */
export class TrainerRestartedError extends HeadstartError {
  constructor(jobId: string, at: string) {
    super('TrainerLost', `The server running job '${jobId}' stopped ${at} without recording its end (a crash or kill); found on restart. Head training keeps no checkpoint: POST /train again.`);
  }
}
