import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { HandlerEntries } from './entries.js';
import { grantPrefixes } from './grants.js';
import { imageFunction } from './images.js';
import { PREFIX } from './storage.js';

export interface ClassifyProps {
  readonly projectRoot: string;
  readonly entries: HandlerEntries;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  readonly memorySize: number;
  /** Provisioned concurrency on the `live` alias; 0 for none. */
  readonly provisionedConcurrency: number;
  readonly retainLogs: boolean;
}

/** API Gateway REST waits at most 29 s for an integration. */
export const CLASSIFY_TIMEOUT = Duration.seconds(29);

/**
 * POST /classify and POST /features. The same container image as the extractor, another CMD: both need ONNX
 * Runtime's linux-x64 binaries (45 MB), sharp with libvips (~19 MB) and the baked model weights; one image is
 * built and pushed once. A zip could hold the binaries (~65 MB < 250 MB) but not VGG-sized weights.
 */
export class Classify extends Construct {
  readonly fn: lambda.DockerImageFunction;
  /** What API Gateway invokes: the `live` alias when provisioned concurrency is on, else the function. */
  readonly target: lambda.IFunction;

  constructor(scope: Construct, id: string, props: ClassifyProps) {
    super(scope, id);
    this.fn = imageFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entries: props.entries,
      bucket: props.bucket,
      baseModel: props.baseModel,
      handler: 'classify',
      description: 'headstart: POST /classify, /features, /explain, GET /thumbnails, /models/{id}/export (ONNX Runtime, sharp, CPU)',
      memorySize: props.memorySize,
      timeout: CLASSIFY_TIMEOUT,
      retainLogs: props.retainLogs,
    });
    this.target =
      props.provisionedConcurrency > 0
        ? new lambda.Alias(this, 'Live', {
            aliasName: 'live',
            version: this.fn.currentVersion,
            provisionedConcurrentExecutions: props.provisionedConcurrency,
          })
        : this.fn;
    grantPrefixes(this.fn, props.bucket, {
      [PREFIX.models]: ['read'],
      // Writes too: features computed for a request are cached by content hash, so a later upload of the same
      // bytes (or a training set that includes them) is a cache hit. Content addressing makes the write idempotent.
      [PREFIX.features]: ['read', 'write'],
      [PREFIX.weights]: ['read', 'write'],
      // GET /thumbnails: reads the image, caches its thumbnail.
      [PREFIX.images]: ['read'],
      [PREFIX.thumbnails]: ['read', 'write'],
      // GET /models/{id}/export: writes each bundle once, reads it back and signs GETs of it with this role.
      [PREFIX.exports]: ['read', 'write'],
      // POST /classify with review=true or under minConfidence keeps the image and its prediction there.
      [PREFIX.reviews]: ['write'],
    });
  }
}
