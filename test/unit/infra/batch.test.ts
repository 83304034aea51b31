import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { FINETUNE_COMMAND, GpuBatch } from '../../../infra/batch.js';
import { REPO_ROOT } from '../../../infra/entries.js';
import type { HeadstartStack } from '../../../infra/stack.js';
import { actionsOf, logicalId, roleStatements, synthStack } from './synth.js';

let stack: HeadstartStack;
let template: Template;
let outdir: string;

beforeAll(() => {
  ({ stack, template, outdir } = synthStack({ extractionMode: 'both', finetune: true, spot: true, gpuInstanceTypes: ['g5.xlarge', 'g4dn.2xlarge'] }));
});



/** A GpuBatch of its own on a bare stack: on-demand g5.xlarge for ResNet50, with the jobs asked for. */
function bareProps(bare: Stack, jobs: { extract: boolean; finetune: boolean }) {
  return { projectRoot: REPO_ROOT, bucket: new s3.Bucket(bare, 'Bucket'), baseModel: 'resnet50', instanceTypes: ['g5.xlarge'], spot: false, maxvCpus: 8, retainLogs: false, ...jobs };
}
/** Both job definitions: first match wins, so Spot reclaims and image pull failures retry, our own non-zero exits do not. */
const RETRY_ON_INFRASTRUCTURE = {
  Attempts: 3,
  EvaluateOnExit: [
    { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
    { Action: 'RETRY', OnReason: 'CannotPullContainerError:*' },
    { Action: 'EXIT', OnExitCode: '*' },
  ],
};

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
    new GpuBatch(bare, 'Gpu', bareProps(bare, { extract: true, finetune: false }));

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

  it('cancels a job left RUNNABLE without capacity after gpuWaitHours, and a misconfigured one after 30 minutes', () => {
    template.hasResourceProperties('AWS::Batch::JobQueue', {
      JobStateTimeLimitActions: [
        { Action: 'CANCEL', MaxTimeSeconds: 6 * 3600, Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY', State: 'RUNNABLE' },
        { Action: 'CANCEL', MaxTimeSeconds: 1800, Reason: 'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE', State: 'RUNNABLE' },
        { Action: 'CANCEL', MaxTimeSeconds: 1800, Reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT', State: 'RUNNABLE' },
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

describe('GPU extraction job definition', () => {
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
        JobRoleArn: { 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.extract!.jobRole), 'Arn'] },
      }),
      RetryStrategy: RETRY_ON_INFRASTRUCTURE,
      Timeout: { AttemptDurationSeconds: 12 * 3600 },
    });
  });

  it('builds both GPU images from docker/batch, one target each, with the base model baked in (staged, not built, at synth)', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'Test.assets.json'), 'utf8'));
    const sources = Object.values(manifest.dockerImages).map((i) => (i as { source: Record<string, unknown> }).source);
    const batchImages = sources.filter((s) => s.dockerFile === 'docker/batch/Dockerfile');

    expect(batchImages.map((s) => s.dockerBuildTarget).sort()).toEqual(['extract', 'finetune']);
    for (const image of batchImages) {
      expect(image).toEqual(expect.objectContaining({ dockerBuildArgs: { BASE_MODEL: 'mobilenet_v2' }, platform: 'linux/amd64' }));
    }
  });

  it('publishes the queue and both definitions as outputs', () => {
    const outputs = template.toJSON().Outputs;

    expect(outputs.BatchJobQueueArn.Value).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.jobQueue), 'JobQueueArn'] });
    expect(outputs.BatchJobQueueArn.Description).toContain('extraction backfills (POST /backfill) and fine-tuning');
    expect(outputs.BatchJobDefinitionArn.Value).toEqual({ Ref: logicalId(stack, stack.gpuBatch!.extract!.jobDefinition) });
    expect(outputs.FinetuneJobDefinitionArn.Value).toEqual({ Ref: logicalId(stack, stack.gpuBatch!.finetune!.jobDefinition) });
  });
});

describe('GPU fine-tuning job definition', () => {
  it('runs exactly `headstart finetune --job Ref::jobId` on one GPU, with no default jobId', () => {
    expect(FINETUNE_COMMAND).toEqual(['finetune', '--job', 'Ref::jobId']);
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      Type: 'container',
      Parameters: Match.absent(),
      ContainerProperties: Match.objectLike({
        Command: ['finetune', '--job', 'Ref::jobId'],
        ResourceRequirements: [
          { Type: 'MEMORY', Value: String(14 * 1024) },
          { Type: 'VCPU', Value: '4' },
          { Type: 'GPU', Value: '1' },
        ],
        JobRoleArn: { 'Fn::GetAtt': [logicalId(stack, stack.gpuBatch!.finetune!.jobRole), 'Arn'] },
      }),
    });
  });

  it('opens the whole bucket as its store and asks for the tensorflow backend by name', () => {
    const definition = template.toJSON().Resources[logicalId(stack, stack.gpuBatch!.finetune!.jobDefinition)];
    const environment = Object.fromEntries(
      (definition.Properties.ContainerProperties.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    const bucket = { Ref: logicalId(stack, stack.storage.bucket) };

    expect(environment).toEqual({
      AWS_REGION: { Ref: 'AWS::Region' },
      HEADSTART_STORE: { 'Fn::Join': ['', ['s3://', bucket]] },
      HEADSTART_BUCKET: bucket,
      HEADSTART_MODEL: 'mobilenet_v2',
      HEADSTART_BACKEND: 'tensorflow',
    });
  });

  it('retries Spot reclaims and image pulls (the next attempt resumes from the checkpoint), not its own failures', () => {
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({
        Command: FINETUNE_COMMAND,
        LogConfiguration: { LogDriver: 'awslogs', Options: Match.objectLike({ 'awslogs-stream-prefix': 'finetune' }) },
      }),
      RetryStrategy: RETRY_ON_INFRASTRUCTURE,
      Timeout: { AttemptDurationSeconds: 24 * 3600 },
      PropagateTags: true,
    });
  });

  it('runs as its own role, not the extraction one', () => {
    expect(logicalId(stack, stack.gpuBatch!.finetune!.jobRole)).not.toBe(logicalId(stack, stack.gpuBatch!.extract!.jobRole));
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'headstart GPU fine-tuning jobs',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] },
    });
  });
});

describe('GpuBatch props', () => {
  it('refuses to build a queue with no job definition', () => {
    const bare = new Stack(new App({ builtinCloudFormationValidation: false }), 'Empty');

    expect(
      () =>
        new GpuBatch(bare, 'Gpu', bareProps(bare, { extract: false, finetune: false })),
    ).toThrow('GpuBatch needs a job to run: set extract, finetune or both');
    expect(bare.node.tryFindChild('Gpu')).toBeUndefined();
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

describe("'lambda' mode with fine-tuning (the default)", () => {
  let lambda: { stack: HeadstartStack; template: Template };

  beforeAll(() => {
    lambda = synthStack({ finetune: true, finetuneTimeoutHours: 6 });
  });

  it('keeps the GPU queue for the fine-tuning job only, with the configured timeout', () => {
    const gpu = lambda.stack.gpuBatch!;

    expect(gpu.extract).toBeUndefined();
    lambda.template.resourceCountIs('AWS::Batch::JobQueue', 1);
    lambda.template.resourceCountIs('AWS::Batch::JobDefinition', 1);
    lambda.template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({ Command: FINETUNE_COMMAND }),
      Timeout: { AttemptDurationSeconds: 6 * 3600 },
    });
    lambda.template.hasResourceProperties('AWS::Batch::ComputeEnvironment', { ComputeResources: Match.objectLike({ MinvCpus: 0 }) });
    lambda.template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('tells the API about fine-tuning only: no backfill variables, SubmitJob on the finetune definition only', () => {
    const { stack: s, template: t } = lambda;
    const gpu = s.gpuBatch!;
    const fn = t.toJSON().Resources[logicalId(s, s.api.fn)];
    const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
    const submit = roleStatements(t, logicalId(s, s.api.fn.role as iam.Role)).filter((st) => actionsOf([st]).includes('batch:SubmitJob'));

    expect(variables.FINETUNE_JOB_QUEUE).toEqual({ 'Fn::GetAtt': [logicalId(s, gpu.jobQueue), 'JobQueueArn'] });
    expect(variables.FINETUNE_JOB_DEFINITION).toEqual({ Ref: logicalId(s, gpu.finetune!.jobDefinition) });
    expect(variables).not.toHaveProperty('BATCH_JOB_QUEUE');
    expect(variables).not.toHaveProperty('BATCH_JOB_DEFINITION');
    expect(submit.flatMap((st) => [st.Resource].flat())).toEqual([
      { Ref: logicalId(s, gpu.finetune!.jobDefinition) },
      { 'Fn::GetAtt': [logicalId(s, gpu.jobQueue), 'JobQueueArn'] },
    ]);
  });

  it('outputs the queue and the fine-tuning definition, and alarms on failed jobs', () => {
    const outputs = lambda.template.toJSON().Outputs;

    expect(outputs.BatchJobQueueArn.Description).toBe("GPU job queue: fine-tuning (POST /train mode 'finetune'), or aws batch submit-job");
    expect(outputs.FinetuneJobDefinitionArn.Value).toEqual({ Ref: logicalId(lambda.stack, lambda.stack.gpuBatch!.finetune!.jobDefinition) });
    expect(outputs).not.toHaveProperty('BatchJobDefinitionArn');
    expect(lambda.stack.alarms.batchFailureRule).toBeDefined();
  });
});
