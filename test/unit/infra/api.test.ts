import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeadstartStack } from '../../../infra/stack.js';
import { logicalId, synthStack } from './synth.js';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

let stack: HeadstartStack;
let template: Template;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  // 'batch' mode with provisioned concurrency and one browser origin: the API's every optional branch.
  ({ stack, template } = synthStack({ extractionMode: 'batch', finetune: true, provisionedConcurrency: 2, corsOrigins: ['https://app.example'] }));
  resources = template.toJSON().Resources;
});

/** Full path of an ApiGateway resource, rebuilt from PathPart/ParentId ('/' for the root). */
function pathOf(resourceId: unknown): string {
  const ref = (resourceId as { Ref?: string }).Ref;
  if (!ref) return '';
  const { PathPart, ParentId } = resources[ref].Properties as { PathPart: string; ParentId: unknown };
  return `${pathOf(ParentId)}/${PathPart}`;
}

function methods(): { route: string; apiKeyRequired: unknown; authorization: unknown; integrationUri: string }[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApiGateway::Method')
    .map((r) => {
      const p = r.Properties as { HttpMethod: string; ResourceId: unknown; ApiKeyRequired?: boolean; AuthorizationType?: string; Integration?: { Uri?: unknown } };
      return {
        route: `${p.HttpMethod} ${pathOf(p.ResourceId) || '/'}`,
        apiKeyRequired: p.ApiKeyRequired,
        authorization: p.AuthorizationType,
        integrationUri: JSON.stringify(p.Integration?.Uri ?? null),
      };
    });
}

describe('routes', () => {
  it('serves exactly the documented routes', () => {
    const routes = methods().filter((m) => !m.route.startsWith('OPTIONS')).map((m) => m.route).sort();

    expect(routes).toEqual([
      'DELETE /models/{id}',
      'DELETE /reviews/{id}',
      'GET /datasets',
      'GET /datasets/{name}',
      'GET /datasets/{name}/issues',
      'GET /jobs/{id}',
      'GET /jobs/{id}/results',
      'GET /models',
      'GET /models/{id}',
      'GET /models/{id}/export',
      'GET /reviews',
      'GET /thumbnails',
      'GET /train/defaults',
      'POST /backfill',
      'POST /classify',
      'POST /explain',
      'POST /features',
      'POST /jobs/{id}/resume',
      'POST /jobs/{id}/stop',
      'POST /predict',
      'POST /reviews/{id}',
      'POST /similar',
      'POST /train',
      'POST /uploads',
    ]);
  });

  it('authorizes every method but the CORS preflights with SigV4, and meters the job-starting routes with a key', () => {
    const all = methods();
    const metered = all.filter((m) => m.apiKeyRequired === true).map((m) => m.route).sort();

    expect(all.filter((m) => !m.route.startsWith('OPTIONS') && m.authorization !== 'AWS_IAM')).toEqual([]);
    expect(metered).toEqual(['POST /backfill', 'POST /jobs/{id}/resume', 'POST /predict', 'POST /train']);
    // Browsers never sign or send x-api-key on a preflight: OPTIONS must stay open, and only OPTIONS.
    expect(all.filter((m) => m.route.startsWith('OPTIONS')).every((m) => m.apiKeyRequired !== true && m.authorization === 'NONE')).toBe(true);
  });

  it("keeps today's API-key-only mode behind apiAuth 'apiKey' (and bucketAccessLogs turns the log bucket off)", () => {
    const { stack: keyedStack, template: keyed } = synthStack({ apiAuth: 'apiKey', bucketAccessLogs: false });
    const keyedMethods = Object.values(keyed.findResources('AWS::ApiGateway::Method')).map(
      (r) => r.Properties as { HttpMethod: string; ApiKeyRequired?: boolean; AuthorizationType?: string },
    );
    const open = keyedMethods.filter((m) => m.HttpMethod !== 'OPTIONS' && (m.ApiKeyRequired !== true || m.AuthorizationType !== 'NONE'));

    expect(keyedMethods.length).toBeGreaterThan(10);
    expect(open).toEqual([]);
    expect(keyedStack.storage.accessLogBucket).toBeUndefined();
    expect(Object.values(keyed.findResources('AWS::S3::Bucket')).map((b) => b.Properties?.LoggingConfiguration)).toEqual([undefined]);
  });

  it('sends /classify, /features, /explain, /thumbnails and /models/{id}/export to the classify alias (sharp and the models are in its image), everything else to the API function', () => {
    const alias = logicalId(stack, stack.classify.target);
    const apiFn = logicalId(stack, stack.api.fn);

    for (const m of methods().filter((x) => !x.route.startsWith('OPTIONS'))) {
      const expected = /\/(classify|features|explain|thumbnails|models\/\{id\}\/export)$/.test(m.route) ? alias : apiFn;
      expect(m.integrationUri, m.route).toContain(expected);
    }
  });
});

describe('API settings', () => {
  it('accepts images and form uploads as binary', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['image/*', 'multipart/form-data', 'application/octet-stream'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  it('writes JSON access logs with the API key id to its log group, and throttles the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"apiKeyId":"\\$context.identity.apiKeyId"'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1train', ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 }),
      ]),
    });
    template.hasResourceProperties('AWS::ApiGateway::Account', {});
  });

  it('throttles every method per key through the usage plan, caps each key per day, and attaches the key', () => {
    const plan = Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::UsagePlan')?.Properties as {
      Throttle: object;
      Quota: object;
      ApiStages: { Throttle: Record<string, { RateLimit: number; BurstLimit: number }> }[];
    };
    const throttled = Object.keys(plan.ApiStages[0].Throttle).sort();
    const routes = methods()
      .filter((m) => !m.route.startsWith('OPTIONS'))
      .map((m) => `${m.route.split(' ')[1]}/${m.route.split(' ')[0]}`)
      .sort();

    expect(throttled).toEqual(routes);
    expect(plan.ApiStages[0].Throttle['/train/POST']).toEqual({ RateLimit: 1, BurstLimit: 5 });
    expect(plan.ApiStages[0].Throttle['/classify/POST']).toEqual({ RateLimit: 10, BurstLimit: 20 });
    expect(plan.Throttle).toEqual({ RateLimit: 20, BurstLimit: 40 });
    expect(plan.Quota).toEqual({ Limit: 500, Period: 'DAY' });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: logicalId(stack, stack.api.apiKey) },
      KeyType: 'API_KEY',
    });
  });

  it('answers CORS preflights and gateway errors for the configured origin', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: {
        IntegrationResponses: [
          Match.objectLike({ ResponseParameters: Match.objectLike({ 'method.response.header.Access-Control-Allow-Origin': "'https://app.example'" }) }),
        ],
      },
    });
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example'" },
      });
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: ['PUT'], AllowedOrigins: ['https://app.example'] })] },
    });
  });
});

describe('functions behind the API', () => {
  it('puts provisioned concurrency on a live alias of the classify function', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionName: { Ref: logicalId(stack, stack.classify.fn) },
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ImageConfig: { Command: ['classify.handler'] },
      Timeout: 29,
    });
  });

  it('tells the API function where the trainer and the GPU queue are, for backfills and for fine-tuning', () => {
    const gpu = stack.gpuBatch!;
    const queue = { 'Fn::GetAtt': [logicalId(stack, gpu.jobQueue), 'JobQueueArn'] };
    const { Environment } = resources[logicalId(stack, stack.api.fn)].Properties as { Environment: { Variables: Record<string, unknown> } };

    expect(Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      HEADSTART_BUCKET: { Ref: logicalId(stack, stack.storage.bucket) },
      HEADSTART_MODEL: 'mobilenet_v2',
      EXTRACTION_MODE: 'batch',
      TRAIN_FUNCTION_NAME: { Ref: logicalId(stack, stack.train.fn) },
      PREDICT_FUNCTION_NAME: { Ref: logicalId(stack, stack.predict.fn) },
      UPLOAD_URL_TTL_SECONDS: '900',
      BATCH_JOB_QUEUE: queue,
      BATCH_JOB_DEFINITION: { Ref: logicalId(stack, gpu.extract!.jobDefinition) },
      FINETUNE_JOB_QUEUE: queue,
      FINETUNE_JOB_DEFINITION: { Ref: logicalId(stack, gpu.finetune!.jobDefinition) },
    });
  });
});

describe("'batch' mode", () => {
  it('extracts on GPUs only: no per-upload notification, queue or extract function', () => {
    expect(stack.ingest).toBeUndefined();
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::Batch::JobQueue', 1);
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('IngestQueueUrl');
    // Errors and Throttles of train, its on-failure handler, classify, predict and API, API 5xx, failed Batch jobs.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5 * 2 + 1 + 1);
  });
});
