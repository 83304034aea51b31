import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { acknowledgeFindings } from './acknowledgments.js';
import { Alarms } from './alarms.js';
import { Api } from './api.js';
import { GpuBatch } from './batch.js';
import { Classify } from './classify.js';
import { resolveConfig, type HeadstartConfig, type ResolvedConfig } from './config.js';
import { REPO_ROOT, resolveEntries, type HandlerEntries } from './entries.js';
import { Ingest } from './ingest.js';
import { Predict } from './predict.js';
import { Storage } from './storage.js';
import { Train } from './train.js';

export interface HeadstartStackProps extends StackProps, HeadstartConfig {
  /** Handler entry files, relative to `projectRoot`. @default DEFAULT_ENTRIES (functions/<name>/index.ts) */
  readonly entries?: Partial<HandlerEntries>;
  /** Docker build context and NodejsFunction project root. @default the repository root */
  readonly projectRoot?: string;
  /** The train function's TF.js layer. @default built at synth by layers/build-tfjs-layer.ts */
  readonly trainLayerCode?: lambda.Code;
}

/** The whole service: storage, ingest (Lambda and/or GPU Batch), training, the API and its alarms. */
export class HeadstartStack extends Stack {
  readonly config: ResolvedConfig;
  readonly storage: Storage;
  /** Per-upload extraction on Lambda: in 'lambda' and 'both' modes. */
  readonly ingest?: Ingest;
  readonly train: Train;
  readonly classify: Classify;
  /** Batch prediction jobs with a model: the classify image, started asynchronously by POST /predict. */
  readonly predict: Predict;
  readonly api: Api;
  readonly alarms: Alarms;
  /** GPUs on AWS Batch: when extractionMode is 'batch' or 'both' (extract job) or finetune is on (finetune job). */
  readonly gpuBatch?: GpuBatch;

  constructor(scope: Construct, id: string, props: HeadstartStackProps = {}) {
    super(scope, id, props);
    // Validate everything before creating anything, so a bad value fails with our message, not CloudFormation's.
    this.config = resolveConfig(props);
    const projectRoot = props.projectRoot ?? REPO_ROOT;
    const entries = resolveEntries(projectRoot, props.entries);
    const { config } = this;
    const retainLogs = config.retainData;

    this.storage = new Storage(this, 'Storage', {
      retainData: config.retainData, corsOrigins: config.corsOrigins, accessLogs: config.bucketAccessLogs,
    });
    const { bucket } = this.storage;
    // 'lambda' and 'both': every upload is extracted as it arrives. 'batch': uploads wait for a GPU backfill.
    if (config.extractionMode !== 'batch') {
      this.ingest = new Ingest(this, 'Ingest', {
        projectRoot, entries, bucket, baseModel: config.baseModel, memorySize: config.extractMemoryMb, retainLogs,
      });
    }
    // The GPU path idles at 0 vCPUs and without NAT (only image storage is billed): fine-tuning alone justifies it.
    const batchExtraction = config.extractionMode !== 'lambda';
    if (batchExtraction || config.finetune) {
      this.gpuBatch = new GpuBatch(this, 'GpuBatch', {
        projectRoot, bucket, baseModel: config.baseModel, instanceTypes: config.gpuInstanceTypes,
        spot: config.spot, maxvCpus: config.maxGpuVcpus, retainLogs, maxRunnableWait: Duration.hours(config.gpuWaitHours),
        extract: batchExtraction, finetune: config.finetune, finetuneTimeout: Duration.hours(config.finetuneTimeoutHours),
      });
    }
    this.train = new Train(this, 'Train', {
      projectRoot, entry: entries.train, failedEntry: entries.trainFailed, bucket, baseModel: config.baseModel, memorySize: config.trainMemoryMb,
      retainLogs, layerCode: props.trainLayerCode, extractQueue: this.ingest?.queue,
    });
    this.classify = new Classify(this, 'Classify', {
      projectRoot, entries, bucket, baseModel: config.baseModel, memorySize: config.classifyMemoryMb,
      provisionedConcurrency: config.provisionedConcurrency, retainLogs,
    });
    this.predict = new Predict(this, 'Predict', {
      projectRoot, entries, bucket, baseModel: config.baseModel, memorySize: config.classifyMemoryMb, retainLogs,
      onFailure: this.train.failedFn,
    });
    this.api = new Api(this, 'Api', {
      projectRoot, entry: entries.api, bucket, baseModel: config.baseModel, memorySize: config.apiMemoryMb,
      extractionMode: config.extractionMode, corsOrigins: config.corsOrigins, retainLogs,
      auth: config.apiAuth, quotaPerDay: config.apiQuotaPerDay,
      classify: this.classify.target, train: this.train.fn, predict: this.predict.fn, tfjsLayer: this.train.layer, batch: this.gpuBatch,
    });
    this.alarms = new Alarms(this, 'Alarms', {
      deadLetterQueue: this.ingest?.deadLetterQueue,
      functions: {
        ...(this.ingest ? { Extract: this.ingest.fn } : {}),
        Train: this.train.fn,
        TrainFailed: this.train.failedFn,
        Classify: this.classify.fn,
        Predict: this.predict.fn,
        Api: this.api.fn,
      },
      restApi: this.api.restApi,
      jobQueue: this.gpuBatch?.jobQueue,
      alarmEmail: config.alarmEmail,
    });
    this.addOutputs();
    acknowledgeFindings(this);
  }

  private addOutputs(): void {
    const out = (id: string, value: string, description: string): CfnOutput => new CfnOutput(this, id, { value, description });
    const auth = this.config.apiAuth === 'iam'
      ? 'sign every request with SigV4 (execute-api); POST /train, /backfill and /jobs/{id}/resume also take x-api-key'
      : 'send the key in the x-api-key header';
    out('ApiUrl', this.api.restApi.url, `Base URL of the REST API (${auth})`);
    out('ApiKeyId', this.api.apiKey.keyId, 'aws apigateway get-api-key --include-value --api-key <id> prints the key');
    out('BucketName', this.storage.bucket.bucketName, 'Upload images to s3://<bucket>/images/<dataset>/<label>/');
    if (this.ingest) {
      out('IngestQueueUrl', this.ingest.queue.queueUrl, 'Queue between the bucket and the extract function');
      out('DeadLetterQueueUrl', this.ingest.deadLetterQueue.queueUrl, 'Images that failed extraction 3 times');
    }
    out('TrainFunctionName', this.train.fn.functionName, 'Started asynchronously by POST /train and POST /predict with a head');
    out('PredictFunctionName', this.predict.fn.functionName, 'Started asynchronously by POST /predict with a model');
    out('AlarmTopicArn', this.alarms.topic.topicArn, 'Subscribe to receive alarms');
    const gpu = this.gpuBatch;
    if (gpu) {
      const uses = [gpu.extract && 'extraction backfills (POST /backfill)', gpu.finetune && "fine-tuning (POST /train mode 'finetune')"];
      out('BatchJobQueueArn', gpu.jobQueue.jobQueueArn, `GPU job queue: ${uses.filter(Boolean).join(' and ')}, or aws batch submit-job`);
    }
    if (gpu?.extract) out('BatchJobDefinitionArn', gpu.extract.jobDefinition.jobDefinitionArn, 'GPU extraction job definition');
    if (gpu?.finetune) {
      out('FinetuneJobDefinitionArn', gpu.finetune.jobDefinition.jobDefinitionArn, 'GPU fine-tuning job definition (parameter jobId)');
    }
  }
}
