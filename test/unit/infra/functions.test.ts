import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeadstartStack } from '../../../infra/stack.js';
import { staticPackageImports } from './bundle-imports.js';
import { logicalId, synthStack } from './synth.js';

let stack: HeadstartStack;
let template: Template;
let outdir: string;

beforeAll(() => {
  ({ stack, template, outdir } = synthStack());
});

/** The staged asset directory or file of a zip function or layer, from the assets manifest. */
function assetPath(displayName: string): string {
  const manifest = JSON.parse(readFileSync(join(outdir, 'Test.assets.json'), 'utf8'));
  const entry = Object.values(manifest.files).find((f) => (f as { displayName: string }).displayName === displayName) as
    | { source: { path: string } }
    | undefined;
  if (!entry) throw new Error(`no asset named ${displayName}`);
  return join(outdir, entry.source.path);
}

describe('runtimes', () => {
  it('runs every zip function of ours on nodejs22.x', () => {
    // CDK's own custom-resource providers (S3 notifications in Python; in batch modes the default security
    // group lock-down) run on runtimes CDK picks and maintains; ours are the ones with our description prefix.
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Runtime?: string; Description?: string; PackageType?: string };
    }[];
    const ours = functions.filter((f) => f.Properties.Description?.startsWith('headstart:'));
    const zips = ours.filter((f) => f.Properties.PackageType !== 'Image');

    expect(ours).toHaveLength(6);
    expect(zips.map((f) => f.Properties.Runtime)).toEqual(['nodejs22.x', 'nodejs22.x', 'nodejs22.x']);
  });

  it('runs train and API as arm64 zip functions with an ESM handler', () => {
    for (const fn of [stack.train.fn, stack.api.fn]) {
      const props = template.toJSON().Resources[logicalId(stack, fn)].Properties;
      expect(props).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', Architectures: ['arm64'] });
    }
  });

  it('runs extract, classify and predict as x86-64 container images (ONNX Runtime and sharp are native)', () => {
    for (const fn of [stack.ingest!.fn, stack.classify.fn, stack.predict.fn]) {
      const props = template.toJSON().Resources[logicalId(stack, fn)].Properties;
      expect(props).toMatchObject({ PackageType: 'Image', Architectures: ['x86_64'] });
      expect(props.Runtime).toBeUndefined();
    }
  });
});

describe('train function', () => {
  it('runs on the TF.js layer, asks for the wasm backend, never retries an async invocation', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleRuntimes: ['nodejs22.x'],
      CompatibleArchitectures: ['arm64', 'x86_64'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Layers: [{ Ref: logicalId(stack, stack.train.layer) }],
      Timeout: 900,
      MemorySize: 2048,
      Environment: { Variables: Match.objectLike({ HEADSTART_BACKEND: 'wasm', HEADSTART_MODEL: 'mobilenet_v2' }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, stack.train.fn) },
      MaximumRetryAttempts: 0,
    });
  });

  it('is bundled locally by esbuild as ESM, with TF.js left to the layer', () => {
    const bundle = readFileSync(join(assetPath('Train/Function/Code'), 'index.mjs'), 'utf8');

    expect(bundle.startsWith("import { createRequire as __createRequire } from 'node:module';")).toBe(true);
    expect(staticPackageImports(bundle)).toEqual(['@tensorflow/tfjs']);
    // Our code only: the fixture plus src/engine/backend.ts and src/errors.ts.
    expect(bundle.length).toBeLessThan(20_000);
  });

  it('uploads the layer as the reproducible zip the build script writes', () => {
    const layerZip = assetPath('Train/TfjsLayer/Code');

    expect(layerZip.endsWith('.zip')).toBe(true);
    expect(statSync(layerZip).size).toBeGreaterThan(1_000_000);
    expect(readFileSync(layerZip).includes(Buffer.from('nodejs/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });
});

describe('predict function', () => {
  it("is the classify image with CMD predict.handler, 15 minutes and classify's memory, on ONNX Runtime", () => {
    const resources = template.toJSON().Resources;
    const props = resources[logicalId(stack, stack.predict.fn)].Properties;
    const classify = resources[logicalId(stack, stack.classify.fn)].Properties;

    expect(props).toMatchObject({
      PackageType: 'Image',
      ImageConfig: { Command: ['predict.handler'] },
      Timeout: 900,
      MemorySize: classify.MemorySize,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { HEADSTART_BUCKET: { Ref: logicalId(stack, stack.storage.bucket) }, HEADSTART_MODEL: 'mobilenet_v2', HEADSTART_ENGINE: 'onnx' } },
    });
    // The very image extract and classify run (one asset, built and pushed once).
    expect(props.Code.ImageUri).toEqual(classify.Code.ImageUri);
  });

  it("never retries an async invocation, and sends its failures to the train function's on-failure handler", () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, stack.predict.fn) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack, stack.train.failedFn), 'Arn'] } } },
    });
  });
});

describe('outputs', () => {
  it('exposes the API URL, API key id, bucket, queues and alarm topic', () => {
    const outputs = template.toJSON().Outputs;

    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'ApiKeyId', 'BucketName', 'IngestQueueUrl', 'DeadLetterQueueUrl', 'TrainFunctionName', 'PredictFunctionName', 'AlarmTopicArn']),
    );
    expect(outputs.BucketName.Value).toEqual({ Ref: logicalId(stack, stack.storage.bucket) });
    expect(outputs.ApiKeyId.Value).toEqual({ Ref: logicalId(stack, stack.api.apiKey) });
    expect(outputs.IngestQueueUrl.Value).toEqual({ Ref: logicalId(stack, stack.ingest!.queue) });
    expect(outputs.PredictFunctionName.Value).toEqual({ Ref: logicalId(stack, stack.predict.fn) });
    // Fine-tuning is off by default (its CUDA image would be built on every deploy): no GPU path at all.
    for (const gpuOutput of ['BatchJobQueueArn', 'FinetuneJobDefinitionArn', 'BatchJobDefinitionArn']) expect(outputs).not.toHaveProperty(gpuOutput);
  });
});

describe('classify without provisioned concurrency', () => {
  it('is integrated directly, with no alias', () => {
    template.resourceCountIs('AWS::Lambda::Alias', 0);
    expect(stack.classify.target).toBe(stack.classify.fn);
  });
});

describe('alarms', () => {
  const topic = () => ({ Ref: logicalId(stack, stack.alarms.topic) });

  it('fires when anything reaches the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, stack.ingest!.deadLetterQueue), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic()],
    });
  });

  it('watches Errors and Throttles of every function', () => {
    for (const fn of [stack.ingest!.fn, stack.train.fn, stack.train.failedFn, stack.classify.fn, stack.predict.fn, stack.api.fn]) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, fn) } }],
          Statistic: 'Sum',
          Threshold: 0,
          AlarmActions: [topic()],
        });
      }
    }
  });

  it('watches API 5xx answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [{ Name: 'ApiName', Value: 'headstart' }],
      Statistic: 'Sum',
      AlarmActions: [topic()],
    });
  });

  it('sends them to one TLS-only topic, with no email subscription unless asked', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    // DLQ, Errors and Throttles of six functions, API 5xx; no GPU queue by default.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1 + 6 * 2 + 1);
  });

  it("lets CloudWatch publish to the topic, for this stack's alarms and account only", () => {
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as { Properties: { PolicyDocument: { Statement: Record<string, any>[] } } }[];
    const publish = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).find((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    const alarmArns = stack.alarms.alarms.map((alarm) => ({ 'Fn::GetAtt': [logicalId(stack, alarm), 'Arn'] }));

    expect(publish).toMatchObject({ Effect: 'Allow', Action: 'sns:Publish', Resource: topic() });
    expect(publish?.Condition.ArnLike['aws:SourceArn']).toEqual(alarmArns);
    expect(publish?.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });
});
