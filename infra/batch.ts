import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { grantPrefixes } from './grants.js';
import { batchImageOptions } from './images.js';
import { PREFIX } from './storage.js';

export interface GpuBatchProps {
  readonly projectRoot: string;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  readonly instanceTypes: readonly string[];
  readonly spot: boolean;
  readonly maxvCpus: number;
  readonly retainLogs: boolean;
}

/** Per job: one GPU and what an xlarge GPU instance (4 vCPUs, 16 GiB) leaves after the ECS agent. */
export const JOB_VCPUS = 4;
export const JOB_MEMORY = Size.mebibytes(14 * 1024);
/** Batch parameter placeholders in the job command; SubmitJob `parameters` override these defaults. */
export const JOB_PARAMETERS = ['source', 'model', 'shards'] as const;

/**
 * Bulk backfills on GPUs: AWS Batch on g5/g4dn instances with the ECS GPU AMI, scaled to zero between jobs.
 *
 * Network: public subnets and no NAT gateway. A NAT gateway (~$33/month each, plus $0.045/GB) would be the
 * only cost of an idle stack; interface endpoints for ECR, ECS, Logs and STS cost about as much. Instances get
 * public addresses but a security group with no inbound rule, and S3 traffic (images in, features out, ECR
 * layers) goes through a free gateway endpoint instead of the internet.
 */
export class GpuBatch extends Construct {
  readonly vpc: ec2.Vpc;
  readonly computeEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  readonly jobQueue: batch.JobQueue;
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly jobRole: iam.Role;

  constructor(scope: Construct, id: string, props: GpuBatchProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'headstart GPU batch instances: outbound only',
      allowAllOutbound: true,
    });
    this.computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [securityGroup],
      instanceTypes: props.instanceTypes.map((t) => new ec2.InstanceType(t)),
      useOptimalInstanceClasses: false,
      // AL2023 GPU AMI: NVIDIA driver + container toolkit; AL2 reaches end of support in 2026.
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      minvCpus: 0,
      maxvCpus: props.maxvCpus,
      spot: props.spot,
      allocationStrategy: props.spot
        ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      updateToLatestImageVersion: true,
    });
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
      priority: 1,
    });
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'headstart GPU extraction jobs',
    });
    grantPrefixes(this.jobRole, props.bucket, {
      [PREFIX.images]: ['read'],
      [PREFIX.features]: ['read', 'write'],
      [PREFIX.errors]: ['write'],
    });
    this.jobDefinition = this.createJobDefinition(props);
  }

  private createJobDefinition(props: GpuBatchProps): batch.EcsJobDefinition {
    const logGroup = new logs.LogGroup(this, 'JobLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const container = new batch.EcsEc2ContainerDefinition(this, 'Container', {
      image: ecs.ContainerImage.fromAsset(props.projectRoot, batchImageOptions(props.baseModel)),
      gpu: 1,
      cpu: JOB_VCPUS,
      memory: JOB_MEMORY,
      // ENTRYPOINT is `headstart`; an array job's children each take shard AWS_BATCH_JOB_ARRAY_INDEX of `shards`.
      command: ['extract', 'Ref::source', '--engine', 'onnx', '--model', 'Ref::model', '--shards', 'Ref::shards'],
      environment: {
        HEADSTART_BUCKET: props.bucket.bucketName,
        HEADSTART_MODEL: props.baseModel,
        HEADSTART_ENGINE: 'onnx',
        // ORT tries CUDA first and falls back to CPU, so a job on a GPU-less host still finishes, only slower.
        HEADSTART_EXECUTION_PROVIDERS: 'cuda,cpu',
      },
      jobRole: this.jobRole,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'extract', logGroup }),
    });
    return new batch.EcsJobDefinition(this, 'JobDefinition', {
      container,
      parameters: { source: `s3://${props.bucket.bucketName}/${PREFIX.images}`, model: props.baseModel, shards: '1' },
      // Spot reclaims and image pull hiccups are worth retrying; a non-zero exit of our own code is not.
      retryAttempts: 3,
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.CANNOT_PULL_CONTAINER),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.NON_ZERO_EXIT_CODE),
      ],
      timeout: Duration.hours(12),
      propagateTags: true,
    });
  }
}
