import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuBatch } from '../../../infra/batch.js';
import { REPO_ROOT } from '../../../infra/entries.js';
import type { HeadstartStack } from '../../../infra/stack.js';
import { logicalId, synthStack } from './synth.js';

let stack: HeadstartStack;
let template: Template;
let outdir: string;

beforeAll(() => {
  ({ stack, template, outdir } = synthStack({ extractionMode: 'both', spot: true, gpuInstanceTypes: ['g5.xlarge', 'g4dn.2xlarge'] }));
});

describe('GPU compute environment', () => {
  it('scales GPU instances from zero on the ECS AL2023 NVIDIA AMI, on Spot when asked', () => {
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      Type: 'managed',
      ComputeResources: Match.objectLike({
        Type: 'SPOT',
        MinvCpus: 0,
        MaxvCpus: 16,
        InstanceTypes: ['g5.xlarge', 'g4dn.2xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
        AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
      }),
    });
  });

  it('uses on-demand capacity by default', () => {
    // The construct alone: no need to synthesize the whole service for one property.
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'headstart-batch-')), builtinCloudFormationValidation: false });
    const bare = new Stack(app, 'Bare');
    new GpuBatch(bare, 'Gpu', {
      projectRoot: REPO_ROOT,
      bucket: new s3.Bucket(bare, 'Bucket'),
      baseModel: 'resnet50',
      instanceTypes: ['g5.xlarge'],
      spot: false,
      maxvCpus: 8,
      retainLogs: false,
    });

    Template.fromStack(bare).hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: Match.objectLike({
        Type: 'EC2',
        MinvCpus: 0,
        MaxvCpus: 8,
        InstanceTypes: ['g5.xlarge'],
        AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
      }),
    });
  });

  it('feeds one job queue', () => {
    template.hasResourceProperties('AWS::Batch::JobQueue', {
      ComputeEnvironmentOrder: [
        { ComputeEnvironment: { 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.computeEnvironment), 'ComputeEnvironmentArn'] }, Order: 1 },
      ],
    });
  });

  it('runs in public subnets with no NAT gateway, an S3 gateway endpoint and no inbound rule', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.s3'])] }),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'headstart GPU batch instances: outbound only',
      SecurityGroupIngress: Match.absent(),
    });
  });
});

describe('GPU job definition', () => {
  it('requests one GPU and runs `headstart extract <source> --engine onnx` with parameters', () => {
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      Type: 'container',
      Parameters: {
        source: { 'Fn::Join': ['', ['s3://', { Ref: logicalId(stack, stack.storage.bucket) }, '/images/']] },
        model: 'mobilenet_v2',
        shards: '1',
      },
      ContainerProperties: Match.objectLike({
        Command: ['extract', 'Ref::source', '--engine', 'onnx', '--model', 'Ref::model', '--shards', 'Ref::shards'],
        ResourceRequirements: [
          { Type: 'MEMORY', Value: String(14 * 1024) },
          { Type: 'VCPU', Value: '4' },
          { Type: 'GPU', Value: '1' },
        ],
        Environment: Match.arrayWith([{ Name: 'HEADSTART_EXECUTION_PROVIDERS', Value: 'cuda,cpu' }]),
        JobRoleArn: { 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.jobRole), 'Arn'] },
      }),
      // First match wins: Spot reclaims and image pull failures retry, our own non-zero exits do not.
      RetryStrategy: {
        Attempts: 3,
        EvaluateOnExit: [
          { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
          { Action: 'RETRY', OnReason: 'CannotPullContainerError:*' },
          { Action: 'EXIT', OnExitCode: '*' },
        ],
      },
      Timeout: { AttemptDurationSeconds: 12 * 3600 },
    });
  });

  it('builds the GPU image from docker/batch with the base model baked in (staged, not built, at synth)', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'Test.assets.json'), 'utf8'));
    const sources = Object.values(manifest.dockerImages).map((i) => (i as { source: { dockerFile: string; dockerBuildArgs: object } }).source);

    expect(sources).toEqual(
      expect.arrayContaining([expect.objectContaining({ dockerFile: 'docker/batch/Dockerfile', dockerBuildArgs: { BASE_MODEL: 'mobilenet_v2' } })]),
    );
  });

  it('publishes the queue and definition as outputs', () => {
    const outputs = template.toJSON().Outputs;

    expect(outputs.BatchJobQueueArn.Value).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.jobQueue), 'JobQueueArn'] });
    expect(outputs.BatchJobDefinitionArn.Value).toEqual({ Ref: logicalId(stack, stack.gpuBatch!.jobDefinition) });
  });
});

describe('failed jobs', () => {
  it('send Batch FAILED events for this queue to the alarm topic and count them in an alarm', () => {
    const rule = logicalId(stack, stack.alarms.batchFailureRule!);
    const topic = logicalId(stack, stack.alarms.topic);

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.batch'],
        'detail-type': ['Batch Job State Change'],
        detail: { status: ['FAILED'], jobQueue: [{ 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.jobQueue), 'JobQueueArn'] }] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: topic }, InputTransformer: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'TriggeredRules',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: rule } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: topic }],
    });
    // EventBridge may publish to the topic.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
  });
});
