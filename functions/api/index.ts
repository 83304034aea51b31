import { InvalidArgumentError } from '../../src/errors.js';
import { configFromEnv, namespaceFor, once, storeFromConfig } from '../shared/runtime.js';
import { createApiHandler } from './handler.js';
import { BatchFinetuneLauncher, LambdaTrainLauncher } from './launchers.js';
import { presignClient, S3UploadSigner } from './uploads.js';
import { BatchBackfillLauncher } from './backfill.js';

/** The GPU batch path, when the stack has one (extractionMode 'batch' or 'both' sets these). */
function batchLauncherFromEnv(model: string): BatchBackfillLauncher | undefined {
  const jobQueue = process.env.BATCH_JOB_QUEUE;
  const jobDefinition = process.env.BATCH_JOB_DEFINITION;
  return jobQueue && jobDefinition ? new BatchBackfillLauncher({ jobQueue, jobDefinition, model }) : undefined;
}

/** Fine-tuning as the GPU batch job, when the stack has it (infra: finetune, the default). */
function finetuneLauncherFromEnv(): BatchFinetuneLauncher | undefined {
  const jobQueue = process.env.FINETUNE_JOB_QUEUE;
  const jobDefinition = process.env.FINETUNE_JOB_DEFINITION;
  return jobQueue && jobDefinition ? new BatchFinetuneLauncher({ jobQueue, jobDefinition }) : undefined;
}

/** Built on the first request and reused while the Lambda stays warm. */
const deps = once(async () => {
  const config = configFromEnv();
  const store = storeFromConfig(config);
  const functionName = process.env.TRAIN_FUNCTION_NAME;
  if (!functionName) throw new InvalidArgumentError('TRAIN_FUNCTION_NAME is not set: the function POST /train starts.');
  // One launcher: the train function runs head training and batch prediction's head pass (it reads the job's kind).
  const launcher = new LambdaTrainLauncher({ functionName });
  // Batch prediction with a model (the whole network per image): the predict function, on the classify image.
  const predictFunction = process.env.PREDICT_FUNCTION_NAME;
  const signer = new S3UploadSigner(presignClient({ endpoint: config.endpoint }), config.bucket);
  return {
    store,
    namespace: once(() => namespaceFor(config, { store })),
    launcher,
    predictLauncher: launcher,
    modelPredictLauncher: predictFunction ? new LambdaTrainLauncher({ functionName: predictFunction, name: 'the predict function' }) : undefined,
    issuesLauncher: launcher,
    finetuneLauncher: finetuneLauncherFromEnv(),
    uploads: signer,
    // GET /jobs/{id}/results?format=csv|jsonl: presigned GETs of a prediction job's files.
    downloads: signer,
    uploadTtlSeconds: Number(process.env.UPLOAD_URL_TTL_SECONDS) || undefined,
    backfill: batchLauncherFromEnv(config.model),
  };
});

export const handler = createApiHandler(deps);
