import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeadstartStack } from '../../../infra/stack.js';
import { FIXTURE_ENTRIES, logicalId, synthStack } from './synth.js';

let stack: HeadstartStack;
let template: Template;
let outdir: string;

beforeAll(() => {
  ({ stack, template, outdir } = synthStack());
});

describe('bucket', () => {
  it('is private, encrypted, versioned and TLS-only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('expires errors/ and exports/ (a cache of bundles) after 30 days and old feature shards after a day', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'errors-expire', Prefix: 'errors/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Id: 'old-feature-shards', Prefix: 'features/', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
          Match.objectLike({ Id: 'exports-expire', Prefix: 'exports/', ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }),
          Match.objectLike({ Id: 'noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ]),
      },
    });
  });

  it('is retained when the stack is deleted, by default', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('writes S3 server access logs to a private log bucket that keeps them 90 days', () => {
    const logBucket = logicalId(stack, stack.storage.accessLogBucket!);

    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucket }, LogFilePrefix: 'data-bucket/' },
    });
    expect(template.toJSON().Resources[logBucket].Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
    });
    // Delivered by the logging service under a bucket policy (no ACLs: ownership is enforced).
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucket },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' })]) },
    });
  });
});

describe('ingest', () => {
  it('sends ObjectCreated events under images/ only to the queue', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'images/' }] } },
            QueueArn: { 'Fn::GetAtt': [logicalId(stack, stack.ingest!.queue), 'Arn'] },
          },
        ],
      },
    });
  });

  it('gives the queue a visibility timeout of at least 6× the extract function timeout', () => {
    const queue = template.toJSON().Resources[logicalId(stack, stack.ingest!.queue)].Properties;
    const fn = template.toJSON().Resources[logicalId(stack, stack.ingest!.fn)].Properties;

    expect(fn.Timeout).toBe(120);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout);
  });

  it('dead-letters a message after 3 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, stack.ingest!.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 3,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('feeds the extract function in batches and reports partial failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, stack.ingest!.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack, stack.ingest!.fn) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 32,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('runs extract as a container image with the extract CMD and the base model in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      ImageConfig: { Command: ['extract.handler'] },
      MemorySize: 3008,
      Architectures: ['x86_64'],
      Environment: {
        Variables: { HEADSTART_BUCKET: { Ref: logicalId(stack, stack.storage.bucket) }, HEADSTART_MODEL: 'mobilenet_v2', HEADSTART_ENGINE: 'onnx' },
      },
    });
  });
});

describe('container images at synth (no Docker daemon here)', () => {
  const manifest = () => JSON.parse(readFileSync(join(outdir, 'Test.assets.json'), 'utf8'));

  it('declares one Lambda image shared by extract, classify and predict, built from the handler entries, and no GPU image by default', () => {
    const images = Object.values(manifest().dockerImages) as { source: { dockerFile: string; dockerBuildArgs: object; platform: string } }[];

    expect(images.map((i) => i.source)).toEqual([
      {
        directory: expect.stringMatching(/^asset\./),
        dockerFile: 'docker/extract/Dockerfile',
        dockerBuildArgs: { EXTRACT_ENTRY: FIXTURE_ENTRIES.extract, CLASSIFY_ENTRY: FIXTURE_ENTRIES.classify, PREDICT_ENTRY: FIXTURE_ENTRIES.predict, BASE_MODEL: 'mobilenet_v2' },
        platform: 'linux/amd64',
      },
    ]);
  });

  it('stages only what the Dockerfile needs as the build context', () => {
    const images = Object.values(manifest().dockerImages) as { source: { directory: string; dockerFile: string } }[];
    const { directory } = images.find((i) => i.source.dockerFile === 'docker/extract/Dockerfile')!.source;
    const context = join(outdir, directory);

    expect(readdirSync(context).sort()).toEqual(
      ['.npmrc', 'bin', 'docker', 'package-lock.json', 'package.json', 'src', 'test', 'tsconfig.json'].concat(
        existsSync(join(context, 'functions')) ? ['functions'] : [],
      ).sort(),
    );
    expect(existsSync(join(context, 'node_modules'))).toBe(false);
    expect(existsSync(join(context, FIXTURE_ENTRIES.extract))).toBe(true);
    expect(existsSync(join(context, 'docker/extract/Dockerfile'))).toBe(true);
    expect(readdirSync(join(context, 'test'))).toEqual(['fixtures']);
  });
});

describe("the default stack: 'lambda' mode, fine-tuning off", () => {
  it('creates no Batch, VPC or GPU resources at all', () => {
    const [bare, t] = [stack, template];
    const types = new Set(Object.values(t.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type));
    const api = t.toJSON().Resources[logicalId(bare, bare.api.fn)].Properties.Environment.Variables as Record<string, unknown>;

    expect([...types].filter((type) => type.startsWith('AWS::Batch::') || type.startsWith('AWS::EC2::') || type === 'AWS::Events::Rule')).toEqual([]);
    expect(bare.gpuBatch).toBeUndefined();
    expect(Object.keys(api).filter((name) => /^(BATCH|FINETUNE)_/.test(name))).toEqual([]);
    expect(Object.keys(t.toJSON().Outputs).filter((name) => /Batch|Finetune/.test(name))).toEqual([]);
  });
});
