import type { FeatureNamespace } from '../../src/features/pipeline.js';
import type { ObjectStore } from '../../src/store/index.js';
import type { BackfillLauncher } from './backfill.js';
import type { TrainLauncher } from './launchers.js';
import type { Embedder } from './routes/similar.js';
import type { DownloadSigner, UploadSigner } from './uploads.js';

/** What the API handler works with; created once per process (warm Lambda, local server). */
export interface ApiDeps {
  store: ObjectStore;
  /** The service's feature namespace, resolved on first use (it reads the weights index): `namespaceFor` in functions/shared. */
  namespace: () => Promise<FeatureNamespace>;
  /** Starts queued training jobs: LambdaTrainLauncher in the cloud, InProcessTrainLauncher locally. */
  launcher: TrainLauncher;
  /**
   * Starts queued fine-tuning jobs: BatchFinetuneLauncher (the GPU batch job) in the cloud, the same
   * InProcessTrainLauncher locally; absent when the deployment has no fine-tuning (POST /train answers 409).
   */
  finetuneLauncher?: TrainLauncher;
  /**
   * Starts queued batch prediction jobs (POST /predict): the train function in the cloud (LambdaTrainLauncher),
   * an InProcessTrainLauncher locally; absent: POST /predict answers 409 PredictUnavailable.
   */
  predictLauncher?: TrainLauncher;
  /**
   * Starts dataset issues jobs (GET /datasets/{name}/issues above the synchronous limit): the train function in the
   * cloud, an InProcessTrainLauncher locally; absent: such a request answers 413 DatasetTooLarge (use `headstart issues`).
   */
  issuesLauncher?: TrainLauncher;
  /** Images GET /datasets/{name}/issues computes within the request. @default syncIssueLimit() (HEADSTART_SYNC_ISSUE_LIMIT, else 10,000) */
  syncIssueLimit?: number;
  /**
   * Starts queued batch prediction jobs with a `model` (the whole network per image): the predict function in the
   * cloud (LambdaTrainLauncher on PREDICT_FUNCTION_NAME), the local predictLauncher when it has the classify
   * service; absent: such a request answers 409 PredictUnavailable (a `head` still works).
   */
  modelPredictLauncher?: TrainLauncher;
  /** Presigns POST /uploads URLs. */
  uploads: UploadSigner;
  /** Presigns GETs of a prediction job's results files (GET /jobs/{id}/results?format=); absent: the file is the body. */
  downloads?: DownloadSigner;
  /** Lifetime of a presigned upload URL. @default 900 */
  uploadTtlSeconds?: number;
  /** Runs POST /backfill; absent when the deployment has no GPU batch path (answers 409). */
  backfill?: BackfillLauncher;
  /** Feature vectors of sent images for POST /similar (the classify service's); absent: /similar answers `{ key }`s from the cache only. */
  embed?: Embedder;
  /** What the server is recovering after a restart (the local stack's startup reconciliation), shown by GET /datasets/{name}. */
  recovery?: RecoveryStatus;
}

/** Work a restarted server found left undone by its previous run, per dataset. */
export interface RecoveryStatus {
  forDataset(dataset: string): DatasetRecovery | undefined;
}

export interface DatasetRecovery {
  /** 'extracting' while it runs, 'done' after. */
  state: 'extracting' | 'done';
  /** Images without features (no link, no error record) found at startup. */
  found: number;
  extracted: number;
  failed: number;
  /** What is going on, in a sentence. */
  message: string;
}
