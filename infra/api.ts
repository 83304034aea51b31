import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { GpuBatch } from './batch.js';
import type { ApiAuth, ExtractionMode } from './config.js';
import { grantPrefixes } from './grants.js';
import { nodeFunction } from './node-function.js';
import { PREFIX } from './storage.js';

/** Which function serves a route, and how hard it may be called (requests/s, burst). */
interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly target: 'api' | 'classify';
  readonly throttle: apigw.ThrottleSettings;
  /**
   * Starts GPU or training work: takes an API key in every auth mode, so the usage plan's quota meters it
   * (API Gateway meters only methods that require a key).
   */
  readonly metered?: boolean;
}

const COMPUTE = { rateLimit: 10, burstLimit: 20 };
const JOBS = { rateLimit: 1, burstLimit: 5 };
const LIGHT = { rateLimit: 20, burstLimit: 40 };
/** A console page shows dozens of thumbnails at once. */
const THUMBNAILS = { rateLimit: 50, burstLimit: 100 };

/** Every route of the REST API (DESIGN.md "Cloud shape"). */
export const API_ROUTES: readonly Route[] = [
  { method: 'POST', path: '/classify', target: 'classify', throttle: COMPUTE },
  { method: 'POST', path: '/features', target: 'classify', throttle: COMPUTE },
  { method: 'GET', path: '/thumbnails', target: 'classify', throttle: THUMBNAILS },
  { method: 'POST', path: '/explain', target: 'classify', throttle: COMPUTE },
  // The bundle is built once into exports/ and answered as a 303 to a presigned GET (a bundle is over 10 MB).
  { method: 'GET', path: '/models/{id}/export', target: 'classify', throttle: COMPUTE },
  { method: 'POST', path: '/train', target: 'api', throttle: JOBS, metered: true },
  { method: 'GET', path: '/train/defaults', target: 'api', throttle: LIGHT },
  { method: 'GET', path: '/jobs/{id}', target: 'api', throttle: LIGHT },
  // A prediction job's rows page by page, or a 303 to a presigned GET of results.csv / results.jsonl.
  { method: 'GET', path: '/jobs/{id}/results', target: 'api', throttle: LIGHT },
  { method: 'POST', path: '/jobs/{id}/resume', target: 'api', throttle: JOBS, metered: true },
  { method: 'POST', path: '/jobs/{id}/stop', target: 'api', throttle: LIGHT },
  { method: 'GET', path: '/models', target: 'api', throttle: LIGHT },
  { method: 'GET', path: '/models/{id}', target: 'api', throttle: LIGHT },
  { method: 'DELETE', path: '/models/{id}', target: 'api', throttle: LIGHT },
  { method: 'GET', path: '/datasets', target: 'api', throttle: LIGHT },
  { method: 'GET', path: '/datasets/{name}', target: 'api', throttle: LIGHT },
  { method: 'POST', path: '/uploads', target: 'api', throttle: LIGHT },
  { method: 'POST', path: '/backfill', target: 'api', throttle: JOBS, metered: true },
  // Batch prediction: the train function runs a head's pass, the predict function a model's (each started like a training job).
  { method: 'POST', path: '/predict', target: 'api', throttle: JOBS, metered: true },
  // Cached features only: the API function answers them (a sent image needs the classify function's model: send { key }).
  { method: 'GET', path: '/datasets/{name}/issues', target: 'api', throttle: COMPUTE },
  { method: 'POST', path: '/similar', target: 'api', throttle: COMPUTE },
  { method: 'GET', path: '/reviews', target: 'api', throttle: LIGHT },
  { method: 'POST', path: '/reviews/{id}', target: 'api', throttle: LIGHT },
  { method: 'DELETE', path: '/reviews/{id}', target: 'api', throttle: LIGHT },
];

/** Images and form uploads arrive base64-encoded in the proxy event; JSON stays text. */
export const BINARY_MEDIA_TYPES = ['image/*', 'multipart/form-data', 'application/octet-stream'];
export const STAGE_NAME = 'v1';
/** One JSON line per request, with the caller (IAM user or role ARN, API key id) so usage can be traced. */
export const ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
  JSON.stringify({
    requestId: apigw.AccessLogField.contextRequestId(),
    requestTime: apigw.AccessLogField.contextRequestTime(),
    ip: apigw.AccessLogField.contextIdentitySourceIp(),
    caller: apigw.AccessLogField.contextIdentityUserArn(),
    apiKeyId: apigw.AccessLogField.contextIdentityApiKeyId(),
    httpMethod: apigw.AccessLogField.contextHttpMethod(),
    resourcePath: apigw.AccessLogField.contextResourcePath(),
    status: apigw.AccessLogField.contextStatus(),
    responseLength: apigw.AccessLogField.contextResponseLength(),
    responseLatency: apigw.AccessLogField.contextResponseLatency(),
    integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
    error: apigw.AccessLogField.contextErrorMessage(),
  }),
);
/** Lifetime of a presigned upload URL. */
export const UPLOAD_URL_TTL = Duration.minutes(15);

export interface ApiProps {
  readonly projectRoot: string;
  /** API handler entry, relative to projectRoot. */
  readonly entry: string;
  readonly bucket: s3.IBucket;
  readonly baseModel: string;
  readonly memorySize: number;
  readonly extractionMode: ExtractionMode;
  readonly corsOrigins: readonly string[];
  readonly retainLogs: boolean;
  /** SigV4 on every method ('iam'), or an API key alone ('apiKey'). */
  readonly auth: ApiAuth;
  /** The usage plan's quota: each key's metered calls per day. */
  readonly quotaPerDay: number;
  /** Serves POST /classify and POST /features. */
  readonly classify: lambda.IFunction;
  /** Started asynchronously by POST /train (and POST /predict with a head). */
  readonly train: lambda.IFunction;
  /** Started asynchronously by POST /predict with a model. @default none: such a request answers 409 PredictUnavailable */
  readonly predict?: lambda.IFunction;
  /**
   * The TF.js layer: the API resolves the service's feature namespace from the zoo's model specs (TF.js
   * builders behind them), and TF.js is never bundled into a zip.
   */
  readonly tfjsLayer: lambda.ILayerVersion;
  /**
   * The GPU path, when deployed: POST /backfill submits its extract job (extractionMode 'batch' or 'both'),
   * POST /train with mode 'finetune' its finetune job (finetune on).
   */
  readonly batch?: Pick<GpuBatch, 'jobQueue' | 'extract' | 'finetune'>;
}

/**
 * API Gateway REST API. Every method is SigV4-authorized by default (auth 'iam'; API keys identify usage plans,
 * they are not authorization), or needs an API key alone (auth 'apiKey', for quick trials). The job-starting
 * routes take a key in both modes so the usage plan's quota meters them; every method is throttled per stage
 * and per key; access and execution logs (errors, never bodies) go to CloudWatch Logs.
 */
export class Api extends Construct {
  readonly restApi: apigw.RestApi;
  readonly fn: NodejsFunction;
  readonly apiKey: apigw.IApiKey;
  readonly usagePlan: apigw.UsagePlan;
  readonly methods: apigw.Method[] = [];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.fn = this.createFunction(props);
    this.restApi = this.createRestApi(props);
    const targets = { api: this.fn, classify: props.classify };
    const authorization =
      props.auth === 'iam'
        ? { authorizationType: apigw.AuthorizationType.IAM }
        : { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true };
    for (const route of API_ROUTES) {
      const integration = new apigw.LambdaIntegration(targets[route.target], { proxy: true, allowTestInvoke: false });
      const options = { ...authorization, ...(route.metered ? { apiKeyRequired: true } : {}) };
      this.methods.push(this.restApi.root.resourceForPath(route.path).addMethod(route.method, integration, options));
    }
    this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      description: 'headstart API keys',
      throttle: LIGHT,
      quota: { limit: props.quotaPerDay, period: apigw.Period.DAY },
      apiStages: [
        {
          api: this.restApi,
          stage: this.restApi.deploymentStage,
          throttle: API_ROUTES.map((route, i) => ({ method: this.methods[i], throttle: route.throttle })),
        },
      ],
    });
    this.apiKey = this.restApi.addApiKey('ApiKey', { description: 'headstart default API key' });
    this.usagePlan.addApiKey(this.apiKey);
  }

  private createFunction(props: ApiProps): NodejsFunction {
    const environment: Record<string, string> = {
      HEADSTART_BUCKET: props.bucket.bucketName,
      HEADSTART_MODEL: props.baseModel,
      EXTRACTION_MODE: props.extractionMode,
      TRAIN_FUNCTION_NAME: props.train.functionName,
      ...(props.predict ? { PREDICT_FUNCTION_NAME: props.predict.functionName } : {}),
      UPLOAD_URL_TTL_SECONDS: String(UPLOAD_URL_TTL.toSeconds()),
    };
    const { jobQueue, extract, finetune } = props.batch ?? {};
    // Each pair is set only with its job definition: the handler answers 409 for a path the stack lacks.
    if (jobQueue && extract) {
      environment.BATCH_JOB_QUEUE = jobQueue.jobQueueArn;
      environment.BATCH_JOB_DEFINITION = extract.jobDefinition.jobDefinitionArn;
    }
    if (jobQueue && finetune) {
      environment.FINETUNE_JOB_QUEUE = jobQueue.jobQueueArn;
      environment.FINETUNE_JOB_DEFINITION = finetune.jobDefinition.jobDefinitionArn;
    }
    const fn = nodeFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      entry: props.entry,
      description: 'headstart: REST API (train, jobs, models, datasets, uploads, backfill)',
      memorySize: props.memorySize,
      timeout: Duration.seconds(29),
      environment,
      layers: [props.tfjsLayer],
      retainLogs: props.retainLogs,
    });
    grantPrefixes(fn, props.bucket, {
      // write: the presigned PUT URLs it hands out are signed with this role's credentials.
      [PREFIX.images]: ['read', 'write'],
      // write, delete: /similar and /datasets/{name}/issues (re)build a dataset's shards and cache its issues there.
      [PREFIX.features]: ['read', 'write', 'delete'],
      [PREFIX.models]: ['read', 'delete'],
      // The review queue: listed, labelled (moved into images/) and discarded here.
      [PREFIX.reviews]: ['read', 'delete'],
      // write: POST /train records the job as queued before the trainer starts, so GET /jobs/{id} answers at once;
      // POST /jobs/{id}/stop writes a stop request, which POST /jobs/{id}/resume deletes.
      [PREFIX.jobs]: ['read', 'write', 'delete'],
      // read: GET /jobs/{id}/results pages a prediction job's results.jsonl and presigns GETs of its files.
      [PREFIX.predictions]: ['read'],
      // read: the weights index names the digest of the service's feature namespace.
      [PREFIX.weights]: ['read'],
    });
    props.train.grantInvoke(fn);
    props.predict?.grantInvoke(fn);
    for (const job of [extract, finetune]) if (jobQueue && job) job.jobDefinition.grantSubmitJob(fn, jobQueue);
    if (finetune) {
      // GET /jobs/{id} of a queued fine-tuning job asks Batch where it stands. ListJobs has no resource-level
      // permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html): '*' it is; it reads job summaries only.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['batch:ListJobs'], resources: ['*'] }));
    }
    return fn;
  }

  private createRestApi(props: ApiProps): apigw.RestApi {
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const api = new apigw.RestApi(this, 'RestApi', {
      restApiName: 'headstart',
      description: 'headstart: transfer learning on cached image features',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      binaryMediaTypes: BINARY_MEDIA_TYPES,
      // Access logging needs the account-level API Gateway → CloudWatch Logs role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
        metricsEnabled: true,
        tracingEnabled: true,
        // Execution logs: errors only, and never request or response bodies (they are images and features).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        // Stage-wide ceiling for all callers together; each route's own below, and the usage plan per key.
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
        methodOptions: Object.fromEntries(
          API_ROUTES.map((route) => [
            `${route.path}/${route.method}`,
            { throttlingRateLimit: route.throttle.rateLimit, throttlingBurstLimit: route.throttle.burstLimit },
          ]),
        ),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: [...props.corsOrigins],
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowHeaders: apigw.Cors.DEFAULT_HEADERS,
        maxAge: Duration.hours(1),
      },
    });
    // API Gateway's own errors (missing key, throttled) carry CORS headers too, or a browser sees only "CORS error".
    const origin = props.corsOrigins.length === 1 ? props.corsOrigins[0] : undefined;
    if (origin) {
      for (const type of [apigw.ResponseType.DEFAULT_4XX, apigw.ResponseType.DEFAULT_5XX]) {
        api.addGatewayResponse(`Cors${type.responseType}`, {
          type,
          responseHeaders: { 'Access-Control-Allow-Origin': `'${origin}'` },
        });
      }
    }
    return api;
  }
}
