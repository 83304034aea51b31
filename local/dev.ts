import { resolve } from 'node:path';
import type { InProcessTrainLauncher } from '../functions/api/launchers.js';
import { InProcessBackfillLauncher } from '../functions/api/backfill.js';
import { createLocalApi } from '../functions/api/local.js';
import { backfill } from '../src/features/backfill.js';
import { presignClient, S3UploadSigner } from '../functions/api/uploads.js';
import { createClassifyRoutes } from '../functions/classify/routes.js';
import { EXTRACT_BATCH_SIZE } from '../functions/extract/batching.js';
import { createExtractHandler } from '../functions/extract/handler.js';
import { extractSessions, pipelineFromConfig } from '../functions/shared/pipeline.js';
import { once, type RuntimeConfig } from '../functions/shared/runtime.js';
import { Ingestor } from '../src/features/ingest.js';
import type { FeatureCut, FeaturePipeline } from '../src/features/pipeline.js';
import type { BatchTiming } from '../src/features/stages.js';
import { HeadCache } from '../src/registry/index.js';
import { createS3Client, S3Store } from '../src/store/index.js';
import { ACCESS_KEY_ENV, credentialsPath, SECRET_KEY_ENV } from '../src/store/local-credentials.js';
import { headstartHome } from '../src/weights/index.js';
import { exportRoutes } from '../functions/api/routes/export.js';
import { thumbnailRoutes } from '../functions/api/routes/thumbnails.js';
import { createConsoleAssets } from './console/assets.js';
import { startLocalApi, type LocalApi } from './http/server.js';
import { assertPortFree, listenOn, type StackPort } from './ports.js';
import { LocalEventQueue, startLocalS3Process, type QueueBatchTiming } from './s3/index.js';
import type { S3ProcessFailedError, SupervisedLocalS3 } from './s3/process.js';
import { checkPort } from './s3/server.js';
import { StartupRecovery } from './recovery.js';
import { StorageWatch } from './storage-watch.js';
import { datasetPrefix } from '../src/layout.js';
import { inProcessExtraction } from '../src/predict/index.js';
import { serviceClassifier } from '../functions/predict/classifier.js';

export interface DevOptions {
  /** @default 3000 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 4569 */
  s3Port?: number;
  /** Where the embedded bucket keeps its objects. @default HEADSTART_DATA, else ./.headstart */
  dataDir?: string;
  /** @default 'headstart' */
  bucket?: string;
  /** Base model. @default HEADSTART_MODEL, else 'mobilenet_v2' */
  model?: string;
  cut?: FeatureCut;
  /** With it, requests without a matching x-api-key get 403. @default HEADSTART_API_KEY */
  apiKey?: string;
  /** The weights/ONNX cache. @default HEADSTART_HOME, else ~/.cache/headstart */
  home?: string;
  /** Most records per extraction batch, as the SQS batch size in the cloud. @default EXTRACT_BATCH_SIZE (32) */
  batchSize?: number;
  /** Per-batch timing of the extract path (the bench's stage table). @default none */
  timing?: { ingest?: (timing: BatchTiming) => void; queue?: (timing: QueueBatchTiming) => void };
  log?: (line: string) => void;
}


/** Where the S3 port's credentials come from, for the banner: every request to it must be signed with them. */
function s3Keys(s3: SupervisedLocalS3, dataDir: string): string {
  if (s3.credentialsSource === 'environment') return `from ${ACCESS_KEY_ENV} and ${SECRET_KEY_ENV} (every request must be signed with them)`;
  const how = s3.credentialsSource === 'generated' ? 'generated now, kept' : 'kept';
  const found = dataDir === resolve(process.env.HEADSTART_DATA || '.headstart') ? 'when run from this folder' : `with HEADSTART_DATA=${dataDir}`;
  return `${how} in ${credentialsPath(dataDir)} (0600); headstart commands find them ${found}`;
}

export interface DevStack {
  api: LocalApi;
  s3: SupervisedLocalS3;
  queue: LocalEventQueue;
  /** Head training jobs. */
  trainer: InProcessTrainLauncher;
  /** Fine-tuning jobs (worker processes), beside head training. */
  finetuner: InProcessTrainLauncher;
  /** Batch prediction jobs (POST /predict), beside the others. */
  predictor: InProcessTrainLauncher;
  /** The startup reconciliation: jobs and pending images the last run left undone. */
  recovery: StartupRecovery;
  config: RuntimeConfig;
  /**
   * Rejects when the stack cannot go on: the S3 server process died and every restart failed. `headstart dev`
   * then stops and exits non-zero with the reason. Never settles otherwise.
   */
  failed: Promise<never>;
  close(): Promise<void>;
}

/**
 * The whole service on one machine, with the handlers the cloud runs: the embedded S3 server, its
 * object events delivered to the extract handler as SQS batches (retries, dead letters), the API's and the
 * classify function's routes on one router behind a local API Gateway, and training jobs off the request path.
 * The model loads (and warms up) before the server answers, so the first request is not the slow one;
 * both ports are checked before it loads, so a taken one fails at once with PortInUseError.
 */
export async function startDevStack(options: DevOptions = {}): Promise<DevStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = resolve(options.dataDir ?? process.env.HEADSTART_DATA ?? '.headstart');
  const apiPort: StackPort = { port: options.port ?? 3000, host: options.host ?? '127.0.0.1', what: 'the API', flag: '--port' };
  const s3Port: StackPort = { port: options.s3Port ?? 4569, host: '127.0.0.1', what: 'the embedded S3 server', flag: '--s3-port' };
  for (const spec of [apiPort, s3Port]) {
    checkPort(spec.port);
    await assertPortFree(spec);
  }
  const s3 = await listenOn(s3Port, () => startLocalS3Process({ port: s3Port.port, host: s3Port.host, dataDir, bucket: options.bucket ?? 'headstart' }));
  const config: RuntimeConfig = {
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    model: options.model ?? process.env.HEADSTART_MODEL ?? 'mobilenet_v2',
    cut: options.cut,
    home: headstartHome(options.home),
  };
  const store = new S3Store(createS3Client({ endpoint: s3.endpoint }), s3.bucket);
  const cleanup: Array<() => unknown> = [() => s3.close()];
  try {
    // One pipeline per (model, cut) in the process: extraction and POST /classify share the feature model.
    const pipelines = new Map<string, () => Promise<FeaturePipeline>>();
    const pipelineFor = (model: string, cut?: FeatureCut) => {
      const key = JSON.stringify([model, cut ?? null]);
      // Sessions as the extract function has them (the same pipeline also answers POST /classify here).
      if (!pipelines.has(key)) pipelines.set(key, once(() => pipelineFromConfig({ ...config, model, cut, sessions: extractSessions(model) }, store)));
      return pipelines.get(key)!();
    };
    const featurePipeline = await pipelineFor(config.model, config.cut);
    cleanup.push(() => featurePipeline.dispose());
    const namespace = featurePipeline.namespace;

    const ingestor = new Ingestor(store, featurePipeline, { onTiming: options.timing?.ingest });
    const extract = createExtractHandler(async () => ({ ingestor }));
    const queue = new LocalEventQueue({
      store,
      batchSize: options.batchSize ?? EXTRACT_BATCH_SIZE,
      onBatch: options.timing?.queue,
      handler: async (records) => {
        // The same event the cloud delivers: one SQS message per S3 notification.
        const event = { Records: records.map((r, i) => ({ messageId: String(i), eventSource: 'aws:sqs', body: JSON.stringify({ Records: [r] }) })) };
        const result = (await extract(event, {} as never)) as { batchItemFailures: Array<{ itemIdentifier: string }> };
        return { failedKeys: result.batchItemFailures.map((f) => records[Number(f.itemIdentifier)]!.s3.object.key) };
      },
    });
    cleanup.unshift(() => queue.close());
    s3.events.on('objectCreated', (record) => queue.enqueue(record));

    const classify = createClassifyRoutes({
      store,
      defaultModel: config.model,
      featureCut: config.cut,
      createPipeline: (model, cut) => pipelineFor(model, cut),
      heads: new HeadCache(store),
      home: config.home,
    });
    cleanup.push(() => classify.dispose());
    await classify.warmUp();

    // One router for all routes: in the cloud API Gateway sends /classify, /features and /thumbnails to the classify function.
    const recovery = new StartupRecovery({ store, pipeline: featurePipeline, log });
    // Presigned PUTs of uploads and presigned GETs of exports (exports/), against the embedded S3 server.
    const signer = new S3UploadSigner(presignClient({ endpoint: s3.endpoint }), s3.bucket);
    const localApi = createLocalApi({
      store,
      recovery,
      namespace: async () => namespace,
      uploads: signer,
      downloads: signer,
      backfill: new InProcessBackfillLauncher(({ dataset }) => backfill(store, featurePipeline, datasetPrefix(dataset))),
      embed: async (bytes) => (await classify.service.features({ name: 0, bytes }, {})).features,
      home: config.home,
      jobWorker: { store: `s3://${s3.bucket}`, endpoint: s3.endpoint, credentials: s3.credentials, log },
      routes: [...classify.routes, ...thumbnailRoutes({ store }), ...exportRoutes({ store, home: config.home, signer })],
      // Uncached images go through the upload path's own Ingestor, so they are cached exactly as an upload is.
      predict: { extraction: inProcessExtraction(ingestor), classifier: serviceClassifier(classify.service) },
    });
    const { handler, launcher: trainer, finetuneLauncher: finetuner, predictLauncher: predictor, issuesLauncher } = localApi;
    cleanup.unshift(() => localApi.close());
    const apiKey = options.apiKey ?? process.env.HEADSTART_API_KEY;
    const assets = (await createConsoleAssets()).handle;
    // What the last run left undone (a crash, kill -9): jobs before the API answers, pending images after.
    await recovery.start({ train: trainer, finetune: finetuner, predict: predictor, issues: issuesLauncher });
    cleanup.unshift(() => recovery.close());
    // A restarted S3 process took the events it had not sent yet with it: find them from the bucket, as at startup.
    s3.supervisor.on('restarted', ({ downMs }) => {
      log(`The embedded S3 server process died and was restarted (down ${downMs} ms); reconciling what it left pending.`);
      void recovery.reconcile('the S3 server process restarted');
    });
    // A full disk: 507s until someone frees space, then what it kept from being extracted is extracted.
    const storage = new StorageWatch({ dataDir, onRoom: () => void recovery.reconcile('the disk had room again') });
    s3.events.on('storageFull', ({ path }) => storage.full(path));
    cleanup.unshift(() => storage.close());
    const failed = new Promise<never>((_, reject) => s3.supervisor.once('failed', (error: S3ProcessFailedError) => reject(error)));
    failed.catch(() => undefined);
    const api = await listenOn(apiPort, () => startLocalApi({ handler, assets, apiKey: apiKey || undefined, host: apiPort.host, port: apiPort.port }));
    cleanup.unshift(() => api.close());

    log(
      [
        `headstart is running (model ${namespace.model}@${namespace.weightsDigest}, features ${namespace.layer}, engine ${featurePipeline.engine})`,
        `  console    ${api.url}/console/`,
        `  API        ${api.url}${apiKey ? '   (x-api-key required)' : ''}`,
        `  S3         ${s3.endpoint}   bucket '${s3.bucket}', data in ${dataDir}`,
        `  S3 keys    ${s3Keys(s3, dataDir)}`,
        `             AWS_ACCESS_KEY_ID=${s3.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${s3.credentials.secretAccessKey} aws --endpoint-url ${s3.endpoint} s3 ls s3://${s3.bucket}/`,
        `  weights    ${config.home}`,
        'Next:',
        // `headstart upload` defaults to the default S3 port; on another one it needs the endpoint.
        `  npx headstart upload <dir of <label>/<image>> --dataset <name>${s3.endpoint === 'http://127.0.0.1:4569' ? '' : ` --endpoint ${s3.endpoint}`}`,
        `  curl ${api.url}/datasets/<name>`,
        `  curl -X POST ${api.url}/train -H 'content-type: application/json' -d '{"dataset":"<name>"}'`,
        `  curl -X POST "${api.url}/classify?head=<headId>" -H 'content-type: image/jpeg' --data-binary @photo.jpg`,
        `  npx headstart predict --dataset <name> --head <headId> --wait${api.url === 'http://127.0.0.1:3000' ? '' : ` --api ${api.url}`}`,
        `  curl -X POST ${api.url}/train -H 'content-type: application/json' -d '{"mode":"finetune","dataset":"<name>","fromHead":"<headId>","unfreeze":"<block>"}'`,
        'Ctrl-C stops; the data stays for the next start.',
      ].join('\n'),
    );
    return {
      api,
      s3,
      queue,
      trainer,
      finetuner,
      predictor,
      recovery,
      config,
      failed,
      close: async () => {
        for (const step of cleanup) await step();
      },
    };
  } catch (error) {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    throw error;
  }
}
