import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { HandlerEntries } from './entries.js';
import { grantPrefixes } from './grants.js';
import { imageFunction } from './images.js';
import { FINETUNED_PREFIX, PREFIX } from './storage.js';
import { grantCompletionEvents, configureJobInvokes } from './train.js';

export interface PredictProps {
  readonly projectRoot: string;
  readonly entries: HandlerEntries;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  /** The classify function's: the same networks in the same image. */
  readonly memorySize: number;
  readonly retainLogs: boolean;
  /**
   * Where an invocation that fails outside our code goes (its time limit, out of memory, a crash, an event too old):
   * the train function's on-failure handler, which marks the job failed (functions/train-failed).
   */
  readonly onFailure: lambda.IFunction;
}

/** Lambda's limit. The handler stops classifying a minute before it (functions/predict/handler.ts PREDICT_WRAP_UP_MS). */
export const PREDICT_TIMEOUT = Duration.minutes(15);

/**
 * The predict function: batch prediction jobs with a `model` (POST /predict), the whole network on every image
 * under the prefix. The classify function's container image with another CMD (ONNX Runtime, sharp, the baked
 * weights; fine-tuned models load their published model.onnx), started asynchronously by the API as the train
 * function is for head jobs, with the same on-failure handling.
 */
export class Predict extends Construct {
  readonly fn: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: PredictProps) {
    super(scope, id);
    this.fn = imageFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entries: props.entries,
      bucket: props.bucket,
      baseModel: props.baseModel,
      handler: 'predict',
      description: 'headstart: batch prediction jobs with a model (POST /predict), the whole network per image (ONNX Runtime, CPU)',
      memorySize: props.memorySize,
      timeout: PREDICT_TIMEOUT,
      retainLogs: props.retainLogs,
    });
    // As the train function: no retries, dead invocations marked failed by its on-failure handler.
    configureJobInvokes(this.fn, props.onFailure);
    grantPrefixes(this.fn, props.bucket, {
      // The images under the job's prefix (S3 cannot scope a grant to one request's prefix).
      [PREFIX.images]: ['read'],
      // A published fine-tuned model: its pointer, config and model.onnx. Heads are the train function's.
      [FINETUNED_PREFIX]: ['read'],
      // The job record: request in, progress, failures and outcome out; POST /jobs/{id}/stop requests read.
      [PREFIX.jobs]: ['read', 'write'],
      // results.jsonl and results.csv of its job.
      [PREFIX.predictions]: ['write'],
      // Weights of a zoo model other than the baked one (`headstart weights push`); the pipeline publishes the
      // weights index when the bucket has none yet, as the classify function does.
      [PREFIX.weights]: ['read', 'write'],
    });
    grantCompletionEvents(this.fn);
  }
}
