import { join } from 'node:path';
import { AssetHashType, DockerImage, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LambdaDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildTfjsLayer } from '../layers/build-tfjs-layer.js';
import { grantPrefixes } from './grants.js';
import { NODE_RUNTIME, nodeFunction } from './node-function.js';
import { PREFIX } from './storage.js';

export interface TrainProps {
  readonly projectRoot: string;
  /** Handler entry, relative to projectRoot. */
  readonly entry: string;
  /** The on-failure handler's entry, relative to projectRoot. */
  readonly failedEntry: string;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  readonly memorySize: number;
  readonly retainLogs: boolean;
  /**
   * The extract queue (infra/ingest.ts): batch prediction sends it the images that have no cached features.
   * @default none: without per-upload extraction ('batch' mode), such images fail with NotExtracted (POST /backfill first)
   */
  readonly extractQueue?: sqs.IQueue;
  /** Layer code; tests may pass a prebuilt zip. @default built from node_modules at synth (layers/build-tfjs-layer.ts) */
  readonly layerCode?: lambda.Code;
}

/** Training takes minutes at most on cached features; API Gateway waits 29 s, so it always runs asynchronously. */
export const TRAIN_TIMEOUT = Duration.minutes(15);

/**
 * The train function: a zip Lambda on a TF.js + wasm layer, started asynchronously by POST /train. An invocation
 * that fails outside our code (its time limit, out of memory, a runtime crash, an event too old to run) goes to
 * its on-failure destination, a small function that marks the job failed with the reason.
 */
export class Train extends Construct {
  readonly fn: NodejsFunction;
  readonly layer: lambda.LayerVersion;
  /** The on-failure destination of `fn`'s asynchronous invocations. */
  readonly failedFn: NodejsFunction;

  constructor(scope: Construct, id: string, props: TrainProps) {
    super(scope, id);
    this.layer = new lambda.LayerVersion(this, 'TfjsLayer', {
      code: props.layerCode ?? tfjsLayerCode(props.projectRoot),
      description: 'TF.js 4 + wasm backend (layers/build-tfjs-layer.ts)',
      compatibleRuntimes: [NODE_RUNTIME],
      // JavaScript and wasm only: the same layer serves both architectures.
      compatibleArchitectures: [lambda.Architecture.ARM_64, lambda.Architecture.X86_64],
    });
    this.fn = nodeFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: props.entry,
      description: 'headstart: trains a classifier head on cached features, and runs batch prediction head passes',
      memorySize: props.memorySize,
      timeout: TRAIN_TIMEOUT,
      layers: [this.layer],
      retainLogs: props.retainLogs,
      environment: {
        HEADSTART_BUCKET: props.bucket.bucketName,
        HEADSTART_MODEL: props.baseModel,
        // tfjs-node is never in a zip Lambda (~380 MB): ask for wasm by name instead of probing for it.
        HEADSTART_BACKEND: 'wasm',
        ...(props.extractQueue ? { EXTRACT_QUEUE_URL: props.extractQueue.queueUrl } : {}),
      },
    });
    this.failedFn = nodeFunction(this, 'FailedFunction', {
      projectRoot: props.projectRoot,
      entry: props.failedEntry,
      description: 'headstart: marks a training job failed when its trainer died (timeout, out of memory, crash)',
      memorySize: 256,
      timeout: Duration.seconds(30),
      retainLogs: props.retainLogs,
      environment: { HEADSTART_BUCKET: props.bucket.bucketName },
    });
    grantPrefixes(this.failedFn, props.bucket, { [PREFIX.jobs]: ['read', 'write'] });
    configureJobInvokes(this.fn, this.failedFn);
    grantPrefixes(this.fn, props.bucket, {
      [PREFIX.features]: ['read'],
      // delete: a rebuilt shard set replaces the old one (written first, manifest last, then the old parts go).
      [`${PREFIX.features}*/shards/`]: ['write', 'delete'],
      // A dataset issues job (GET /datasets/{name}/issues above the synchronous limit) caches its answer here.
      [`${PREFIX.features}*/issues/`]: ['write'],
      [PREFIX.models]: ['read', 'write'],
      [PREFIX.jobs]: ['read', 'write'],
      [PREFIX.weights]: ['read'],
      // Batch prediction results; images are listed (ListBucket), never read: extraction is the extract function's.
      [PREFIX.predictions]: ['write'],
    });
    props.extractQueue?.grantSendMessages(this.fn);
    grantCompletionEvents(this.fn);
  }
}

/**
 * A function that runs jobs from an asynchronous invoke (`{ jobId }`: the train and predict functions). The job
 * records its own failures, so Lambda's two automatic retries would only run the same job again: none. An
 * invocation that dies outside our code (time limit, out of memory, crash) goes to `onFailure`, which marks the job
 * failed (responseOnly false: the record carries the original { jobId } and the condition).
 */
export function configureJobInvokes(fn: lambda.Function, onFailure: lambda.IFunction): void {
  fn.configureAsyncInvoke({
    retryAttempts: 0,
    maxEventAge: Duration.hours(1),
    onFailure: new LambdaDestination(onFailure, { responseOnly: false }),
  });
}

/** The completion event of a batch prediction job (functions/train/predict.ts), on the account's default bus only. */
export function grantCompletionEvents(fn: lambda.Function): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [Stack.of(fn).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
    }),
  );
}

/**
 * Builds the layer zip at synth time with the repository's own script (no Docker): local bundling writes one
 * reproducible zip, which CDK uploads as is, hashed by its bytes, so an unchanged layer is never republished.
 */
export function tfjsLayerCode(projectRoot: string): lambda.Code {
  return lambda.Code.fromAsset(join(projectRoot, 'layers'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; never pulled, because local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      local: {
        tryBundle(outputDir: string): boolean {
          buildTfjsLayer({ projectRoot, outFile: join(outputDir, 'tfjs-layer.zip') });
          return true;
        },
      },
    },
  });
}
