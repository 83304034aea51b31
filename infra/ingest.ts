import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EXTRACT_BATCH_SIZE } from '../functions/extract/batching.js';
import type { HandlerEntries } from './entries.js';
import { grantPrefixes } from './grants.js';
import { imageFunction } from './images.js';
import { PREFIX } from './storage.js';

export interface IngestProps {
  readonly projectRoot: string;
  readonly entries: HandlerEntries;
  readonly bucket: s3.Bucket;
  readonly baseModel: string;
  readonly memorySize: number;
  readonly retainLogs: boolean;
}

/** A batch of 32 images takes seconds on ORT; the rest is cold start (image pull, model load). */
export const EXTRACT_TIMEOUT = Duration.minutes(2);
export { EXTRACT_BATCH_SIZE };
export const EXTRACT_BATCHING_WINDOW = Duration.seconds(5);
/** Caps parallel cold starts (each loads the model); the queue absorbs bursts instead. */
export const EXTRACT_MAX_CONCURRENCY = 20;
/** Deliveries before a message goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

/**
 * Uploads under images/ → S3 notification → SQS (+ DLQ) → the extract function (container image, CPU ONNX
 * Runtime). The queue, not S3's direct invoke, gives retries with backoff, partial batch failures and a
 * dead-letter queue that alarms.
 */
export class Ingest extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly fn: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // AWS: at least six times the function timeout (plus the batching window), so a message whose batch is
      // still being retried by the poller does not reappear and run twice.
      visibilityTimeout: Duration.seconds(6 * EXTRACT_TIMEOUT.toSeconds() + EXTRACT_BATCHING_WINDOW.toSeconds()),
      retentionPeriod: Duration.days(4),
      // SSE-SQS, not SSE-KMS: S3 can publish to it without a customer key policy.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    this.fn = imageFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entries: props.entries,
      bucket: props.bucket,
      baseModel: props.baseModel,
      handler: 'extract',
      description: 'headstart: images/ uploads → cached features (ONNX Runtime, CPU)',
      memorySize: props.memorySize,
      timeout: EXTRACT_TIMEOUT,
      retainLogs: props.retainLogs,
    });
    this.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: EXTRACT_BATCH_SIZE,
        maxBatchingWindow: EXTRACT_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        maxConcurrency: EXTRACT_MAX_CONCURRENCY,
      }),
    );
    // Only images/: the extractor's own writes under features/ and errors/ must never loop back.
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new SqsDestination(this.queue), { prefix: PREFIX.images });
    grantPrefixes(this.fn, props.bucket, {
      [PREFIX.images]: ['read'],
      // read: HEAD of a features/ key is the cache check (same bytes uploaded twice are extracted once).
      [PREFIX.features]: ['read', 'write'],
      [PREFIX.errors]: ['write'],
      // read + write: publishes its baked weights' index, which the API and trainer resolve the namespace from.
      [PREFIX.weights]: ['read', 'write'],
    });
  }
}
