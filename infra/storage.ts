import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MODEL_PREFIX, PREFIX } from '../src/layout.js';

/** The bucket's top-level prefixes (src/layout.ts, DESIGN.md "Storage layout": prefixes are the API). */
export { PREFIX };

/**
 * Fine-tuned models, under models/ beside models/heads/. A prefix of its own in grants: the fine-tuning job
 * may write here and nowhere else under models/.
 */
export const FINETUNED_PREFIX = MODEL_PREFIX.finetuned;

export interface StorageProps {
  /** Keep the bucket when the stack is deleted. */
  readonly retainData: boolean;
  /** Browser origins allowed to PUT presigned uploads. */
  readonly corsOrigins: readonly string[];
  /** S3 server access logs of the bucket, into a log bucket of their own (kept 90 days). */
  readonly accessLogs: boolean;
}

/** How long S3 server access logs are kept. */
export const ACCESS_LOG_RETENTION = Duration.days(90);

/**
 * One private bucket for everything. Versioned: a published model pointer overwritten by a bad training run,
 * or a head removed with DELETE /models/{id}, can be restored for 30 days; lifecycle rules keep the cost of
 * that bounded (rebuilt feature shards are the only frequent overwrites, and their old versions go after a day).
 */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  /** Where the bucket's S3 server access logs go, when they are on. */
  readonly accessLogBucket?: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    if (props.accessLogs) {
      this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        // S3's log delivery writes only to SSE-S3 buckets (it cannot use a customer KMS key).
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: ACCESS_LOG_RETENTION }],
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        autoDeleteObjects: !props.retainData,
      });
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // SSE-S3, not KMS: no key policy to keep in step with every role, no per-request KMS cost, and presigned
      // PUTs from browsers need no kms:GenerateDataKey on the API role.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: lifecycleRules(),
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT],
          allowedOrigins: [...props.corsOrigins],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retainData,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: this.accessLogBucket ? 'data-bucket/' : undefined,
    });
  }
}

function lifecycleRules(): s3.LifecycleRule[] {
  return [
    {
      id: 'errors-expire',
      prefix: PREFIX.errors,
      expiration: Duration.days(30),
      noncurrentVersionExpiration: Duration.days(1),
    },
    {
      // Per-image features are content-addressed and never overwritten; only the consolidated shards under
      // features/**/shards/ are rewritten when stale, so noncurrent versions here are old shards.
      id: 'old-feature-shards',
      prefix: PREFIX.features,
      noncurrentVersionExpiration: Duration.days(1),
    },
    {
      // Export bundles (GET /models/{id}/export) are a cache keyed by model version: one a month old is rebuilt on
      // the next request, and the versions of republished models stop piling up (≈30 MB each for DenseNet121).
      id: 'exports-expire',
      prefix: PREFIX.exports,
      expiration: Duration.days(30),
      noncurrentVersionExpiration: Duration.days(1),
    },
    {
      id: 'noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(30),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
      expiredObjectDeleteMarker: true,
    },
  ];
}
