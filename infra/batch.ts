import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { InvalidArgumentError } from '../src/errors.js';
import { grantPrefixes } from './grants.js';
import { batchImageOptions, finetuneImageOptions } from './images.js';
import { FINETUNED_PREFIX, PREFIX } from './storage.js';

export interface GpuBatchProps {
  readonly projectRoot: string;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  readonly instanceTypes: readonly string[];
  readonly spot: boolean;
  readonly maxvCpus: number;
  readonly retainLogs: boolean;
  /** Create the extraction job definition (POST /backfill: `headstart extract`). */
  readonly extract: boolean;
  /** Create the fine-tuning job definition (POST /train with mode 'finetune': `headstart finetune --job`). */
  readonly finetune: boolean;
  /** Attempt timeout of a fine-tuning job. @default Duration.hours(24) */
  readonly finetuneTimeout?: Duration;
  /**
   * How long a job may wait RUNNABLE at the head of the queue for GPU capacity before Batch cancels it with the
   * reason (no capacity: vCPU quota, region, instance type). @default Duration.hours(6)
   */
  readonly maxRunnableWait?: Duration;
}

/** A job the compute environment can never run (too few vCPUs allowed, no instance type fits) is cancelled this soon. */
export const MISCONFIGURED_WAIT = Duration.minutes(30);

/** A job definition and the role its container runs as. */
export interface GpuJob {
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly jobRole: iam.Role;
}

/** Per job: one GPU and what an xlarge GPU instance (4 vCPUs, 16 GiB) leaves after the ECS agent. */
export const JOB_VCPUS = 4;
export const JOB_MEMORY = Size.mebibytes(14 * 1024);
/** Batch parameter placeholders in the extract command; SubmitJob `parameters` override these defaults. */
export const JOB_PARAMETERS = ['source', 'model', 'shards'] as const;
/**
 * The fine-tuning command (ENTRYPOINT is `headstart`). SubmitJob `parameters: { jobId }` fills `Ref::jobId`; the
 * request itself is already in jobs/<jobId>.json. No default: a submission without it hands the CLI the literal
 * `Ref::jobId`, which it rejects as an invalid job id.
 */
export const FINETUNE_COMMAND = ['finetune', '--job', 'Ref::jobId'] as const;

/**
 * GPUs on demand: AWS Batch on g5/g4dn instances with the ECS GPU AMI, scaled to zero between jobs. One queue
 * serves bulk extraction backfills and fine-tuning jobs; each has its own job definition, image target and role.
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
  /** `headstart extract` on ONNX Runtime CUDA: when `extract` is set. */
  readonly extract?: GpuJob;
  /** `headstart finetune --job <jobId>` on tfjs-node-gpu: when `finetune` is set. */
  readonly finetune?: GpuJob;
  private readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GpuBatchProps) {
    if (!props.extract && !props.finetune) {
      throw new InvalidArgumentError('GpuBatch needs a job to run: set extract, finetune or both');
    }
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
      // Without these a job waits RUNNABLE for ever when the account has no G-instance vCPU quota or the
      // region no capacity; cancelled, it fails with this reason, which GET /jobs/{id} shows.
      jobStateTimeLimitActions: [
        { reason: batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY, maxTime: props.maxRunnableWait ?? Duration.hours(6) },
        { reason: batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE, maxTime: MISCONFIGURED_WAIT },
        { reason: batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT, maxTime: MISCONFIGURED_WAIT },
      ],
    });
    // One log group; each job kind writes under its own stream prefix.
    this.logGroup = new logs.LogGroup(this, 'JobLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (props.extract) this.extract = this.createExtractJob(props);
    if (props.finetune) this.finetune = this.createFinetuneJob(props);
  }

  private createExtractJob(props: GpuBatchProps): GpuJob {
    const jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'headstart GPU extraction jobs',
    });
    grantPrefixes(jobRole, props.bucket, {
      [PREFIX.images]: ['read'],
      [PREFIX.features]: ['read', 'write'],
      [PREFIX.errors]: ['write'],
    });
    const container = new batch.EcsEc2ContainerDefinition(this, 'Container', {
      image: ecs.ContainerImage.fromAsset(props.projectRoot, batchImageOptions(props.baseModel)),
      gpu: 1,
      cpu: JOB_VCPUS,
      memory: JOB_MEMORY,
      // ENTRYPOINT is `headstart`; an array job's children each take shard AWS_BATCH_JOB_ARRAY_INDEX of `shards`.
      command: ['extract', 'Ref::source', '--engine', 'onnx', '--model', 'Ref::model', '--shards', 'Ref::shards'],
      environment: {
        ...this.commonEnvironment(props),
        HEADSTART_ENGINE: 'onnx',
        // ORT tries CUDA first and falls back to CPU, so a job on a GPU-less host still finishes, only slower.
        HEADSTART_EXECUTION_PROVIDERS: 'cuda,cpu',
      },
      jobRole,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'extract', logGroup: this.logGroup }),
    });
    const jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      container,
      parameters: { source: `s3://${props.bucket.bucketName}/${PREFIX.images}`, model: props.baseModel, shards: '1' },
      ...retryOnInfrastructure(),
      timeout: Duration.hours(12),
      propagateTags: true,
    });
    return { jobDefinition, jobRole };
  }

  private createFinetuneJob(props: GpuBatchProps): GpuJob {
    const jobRole = new iam.Role(this, 'FinetuneJobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'headstart GPU fine-tuning jobs',
    });
    grantPrefixes(jobRole, props.bucket, {
      [PREFIX.images]: ['read'],
      // The job record (progress after every epoch) and jobs/<jobId>/checkpoint/, deleted once published.
      [PREFIX.jobs]: ['read', 'write', 'delete'],
      // A published head under models/heads/ to start from (fromHead).
      [PREFIX.models]: ['read'],
      // Files first, the _published.json pointer last; a failed publish removes what it wrote.
      [FINETUNED_PREFIX]: ['write', 'delete'],
      [PREFIX.weights]: ['read'],
    });
    const container = new batch.EcsEc2ContainerDefinition(this, 'FinetuneContainer', {
      image: ecs.ContainerImage.fromAsset(props.projectRoot, finetuneImageOptions(props.baseModel)),
      gpu: 1,
      cpu: JOB_VCPUS,
      memory: JOB_MEMORY,
      command: [...FINETUNE_COMMAND],
      environment: {
        ...this.commonEnvironment(props),
        // The CLI opens its store from here: the whole bucket, as the job record names dataset and heads.
        HEADSTART_STORE: `s3://${props.bucket.bucketName}`,
        // By name: a GPU image whose tfjs-node-gpu cannot load fails the job instead of training on wasm for days.
        HEADSTART_BACKEND: 'tensorflow',
      },
      jobRole,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'finetune', logGroup: this.logGroup }),
    });
    const jobDefinition = new batch.EcsJobDefinition(this, 'FinetuneJobDefinition', {
      container,
      // A retried attempt (Spot reclaim, image pull) runs the same `finetune --job <jobId>`, which resumes from
      // the last complete epoch checkpointed under jobs/<jobId>/checkpoint/ instead of starting over.
      ...retryOnInfrastructure(),
      timeout: props.finetuneTimeout ?? Duration.hours(24),
      propagateTags: true,
    });
    return { jobDefinition, jobRole };
  }

  /** What both containers need: the bucket, the base model, and the region (ECS on EC2 does not promise to set it). */
  private commonEnvironment(props: GpuBatchProps): Record<string, string> {
    return {
      AWS_REGION: Stack.of(this).region,
      HEADSTART_BUCKET: props.bucket.bucketName,
      HEADSTART_MODEL: props.baseModel,
    };
  }
}

/** Spot reclaims and image pull hiccups are worth retrying; a non-zero exit of our own code is not (first match wins). */
function retryOnInfrastructure(): Pick<batch.EcsJobDefinitionProps, 'retryAttempts' | 'retryStrategies'> {
  return {
    retryAttempts: 3,
    retryStrategies: [
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.CANNOT_PULL_CONTAINER),
      batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.NON_ZERO_EXIT_CODE),
    ],
  };
}
