import type { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeadstartStack } from '../../../infra/stack.js';
import { FINETUNED_PREFIX } from '../../../infra/storage.js';
import { FINETUNED_PREFIX as PUBLISHED_UNDER } from '../../../src/finetune/keys.js';
import { actionsOf, bucketSuffixes, logicalId, roleStatements, synthStack, type Statement } from './synth.js';

let stack: HeadstartStack;
let template: Template;
let bucketId: string;

beforeAll(() => {
  // 'both' deploys every role there is: the four functions and the two GPU job roles (extraction, fine-tuning).
  ({ stack, template } = synthStack({ extractionMode: 'both', finetune: true }));
  bucketId = logicalId(stack, stack.storage.bucket);
});

const statementsOfFunction = (fn: IFunction): Statement[] => roleStatements(template, logicalId(stack, fn.role as iam.Role));

/** What a role may do in the bucket: object key patterns per action, and whether it may list. */
function s3Access(statements: Statement[]) {
  return {
    get: bucketSuffixes(statements, 's3:GetObject', bucketId),
    put: bucketSuffixes(statements, 's3:PutObject', bucketId),
    abort: bucketSuffixes(statements, 's3:AbortMultipartUpload', bucketId),
    delete: bucketSuffixes(statements, 's3:DeleteObject', bucketId),
    list: bucketSuffixes(statements, 's3:ListBucket', bucketId),
  };
}

describe('least privilege in the bucket', () => {
  it('extract reads images/ and features/ (cache check), writes features/ and errors/, publishes its weights index', () => {
    expect(s3Access(statementsOfFunction(stack.ingest!.fn))).toEqual({
      get: ['/features/*', '/images/*', '/weights/*'],
      put: ['/errors/*', '/features/*', '/weights/*'],
      abort: ['/errors/*', '/features/*', '/weights/*'],
      delete: [],
      list: [''],
    });
  });

  it('train reads features/, models/, jobs/, weights/ and writes models/, jobs/, predictions/ and only the shards and the issues cache under features/', () => {
    expect(s3Access(statementsOfFunction(stack.train.fn))).toEqual({
      get: ['/features/*', '/jobs/*', '/models/*', '/weights/*'],
      put: ['/features/*/issues/*', '/features/*/shards/*', '/jobs/*', '/models/*', '/predictions/*'],
      abort: ['/features/*/issues/*', '/features/*/shards/*', '/jobs/*', '/models/*', '/predictions/*'],
      delete: ['/features/*/shards/*'],
      list: [''],
    });
  });

  it('classify reads models/ and features/, and fills the features/ cache; GET /thumbnails reads images/ and caches under thumbnails/; GET /models/{id}/export stores and signs bundles under exports/ only', () => {
    expect(s3Access(statementsOfFunction(stack.classify.fn))).toEqual({
      get: ['/exports/*', '/features/*', '/images/*', '/models/*', '/thumbnails/*', '/weights/*'],
      put: ['/exports/*', '/features/*', '/reviews/*', '/thumbnails/*', '/weights/*'],
      abort: ['/exports/*', '/features/*', '/reviews/*', '/thumbnails/*', '/weights/*'],
      delete: [],
      list: [''],
    });
  });

  it('predict reads images/, published fine-tuned models, weights/ and its job; writes only jobs/, predictions/ and the weights index', () => {
    expect(s3Access(statementsOfFunction(stack.predict.fn))).toEqual({
      get: ['/images/*', '/jobs/*', '/models/finetuned/*', '/weights/*'],
      put: ['/jobs/*', '/predictions/*', '/weights/*'],
      abort: ['/jobs/*', '/predictions/*', '/weights/*'],
      delete: [],
      list: [''],
    });
  });

  it('the API reads what it serves, presigns PUTs to images/ and GETs of prediction results, records jobs (and stop requests), builds shards, deletes models, stop requests and reviews', () => {
    expect(s3Access(statementsOfFunction(stack.api.fn))).toEqual({
      get: ['/features/*', '/images/*', '/jobs/*', '/models/*', '/predictions/*', '/reviews/*', '/weights/*'],
      put: ['/features/*', '/images/*', '/jobs/*'],
      abort: ['/features/*', '/images/*', '/jobs/*'],
      delete: ['/features/*', '/jobs/*', '/models/*', '/reviews/*'],
      list: [''],
    });
  });

  it('the GPU extraction job reads images/ and features/, writes features/ and errors/', () => {
    const role = stack.gpuBatch?.extract?.jobRole as iam.Role;

    expect(s3Access(roleStatements(template, logicalId(stack, role)))).toEqual({
      get: ['/features/*', '/images/*'],
      put: ['/errors/*', '/features/*'],
      abort: ['/errors/*', '/features/*'],
      delete: [],
      list: [''],
    });
  });

  it('the GPU fine-tuning job reads images/, models/, weights/ and its job; writes only jobs/ and models/finetuned/', () => {
    const role = stack.gpuBatch?.finetune?.jobRole as iam.Role;

    expect(s3Access(roleStatements(template, logicalId(stack, role)))).toEqual({
      // models/: a head under models/heads/ to start from (fromHead).
      get: ['/images/*', '/jobs/*', '/models/*', '/weights/*'],
      // The job record and checkpoints; the fine-tuned model's files, then its pointer.
      put: ['/jobs/*', '/models/finetuned/*'],
      abort: ['/jobs/*', '/models/finetuned/*'],
      // Checkpoints once published; a failed publish rolls back its files.
      delete: ['/jobs/*', '/models/finetuned/*'],
      list: [''],
    });
  });

  it('grants fine-tuning the very prefix the fine-tuning code publishes under', () => {
    expect(FINETUNED_PREFIX).toBe(PUBLISHED_UNDER);
  });

  it('the GPU fine-tuning job cannot write published heads nor touch the feature cache', () => {
    const statements = roleStatements(template, logicalId(stack, stack.gpuBatch!.finetune!.jobRole));
    const objectActions = ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'];
    const granted = (action: string) => bucketSuffixes(statements, action, bucketId);

    for (const action of ['s3:PutObject', 's3:DeleteObject']) {
      expect(granted(action).filter((key) => key === '/models/*' || key.startsWith('/models/heads/'))).toEqual([]);
    }
    for (const action of objectActions) expect(granted(action).filter((key) => key.startsWith('/features/'))).toEqual([]);
    // And nothing beyond S3: the execution role, not the job role, pulls the image and writes the logs.
    expect(actionsOf(statements).filter((a) => !a.startsWith('s3:'))).toEqual([]);
  });

  it('grants no role an object action on the whole bucket, and no s3 wildcard action', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const objectActions = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];

    for (const action of objectActions) expect(bucketSuffixes(statements, action, bucketId)).not.toContain('/*');
    expect(actionsOf(statements).filter((a) => a === '*' || (a.startsWith('s3:') && a.includes('*')))).toEqual([]);
  });
});

describe('beyond the bucket', () => {
  it('lets the API invoke the train and predict functions and submit both GPU jobs to their queue only', () => {
    const statements = statementsOfFunction(stack.api.fn);
    const invoke = statements.filter((s) => actionsOf([s]).includes('lambda:InvokeFunction'));
    const predictId = logicalId(stack, stack.predict.fn);
    const submit = statements.filter((s) => actionsOf([s]).includes('batch:SubmitJob'));
    const trainId = logicalId(stack, stack.train.fn);
    const gpu = stack.gpuBatch!;

    expect(actionsOf(invoke)).toEqual(['lambda:InvokeFunction']);
    expect(invoke.flatMap((s) => [s.Resource].flat())).toEqual([
      { 'Fn::GetAtt': [trainId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [trainId, 'Arn'] }, ':*']] },
      { 'Fn::GetAtt': [predictId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [predictId, 'Arn'] }, ':*']] },
    ]);
    expect(actionsOf(submit)).toEqual(['batch:SubmitJob']);
    expect(new Set(submit.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r)))).toEqual(
      new Set([
        JSON.stringify({ Ref: logicalId(stack, gpu.extract!.jobDefinition) }),
        JSON.stringify({ Ref: logicalId(stack, gpu.finetune!.jobDefinition) }),
        JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, gpu.jobQueue), 'JobQueueArn'] }),
      ]),
    );
    // GET /jobs/{id} reads a queued fine-tuning job's Batch status: ListJobs only (it takes no resource ARN).
    const list = statements.filter((s) => actionsOf([s]).includes('batch:ListJobs'));
    expect(list.map((s) => [actionsOf([s]), s.Resource])).toEqual([[['batch:ListJobs'], '*']]);
  });

  it('gives the extractor queue consumption rights on its own queue only', () => {
    const sqs = statementsOfFunction(stack.ingest!.fn).filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')));

    expect(sqs.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [logicalId(stack, stack.ingest!.queue), 'Arn'] }]);
    expect(actionsOf(sqs)).toContain('sqs:DeleteMessage');
  });

  it('grants train, classify and extract nothing inline beyond S3, X-Ray segments (and SQS for extract); logs come from the managed basic role', () => {
    const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const beyond = (fn: Parameters<typeof statementsOfFunction>[0], also: (a: string) => boolean = () => false) =>
      actionsOf(statementsOfFunction(fn)).filter((a) => !a.startsWith('s3:') && !XRAY.includes(a) && !also(a));
    for (const fn of [stack.train.failedFn, stack.classify.fn]) expect(beyond(fn)).toEqual([]);
    expect(beyond(stack.ingest!.fn, (a) => a.startsWith('sqs:'))).toEqual([]);
    // X-Ray takes no resource ARN: '*', for exactly those two actions.
    const xray = statementsOfFunction(stack.classify.fn).filter((s) => actionsOf([s]).some((a) => a.startsWith('xray:')));
    expect(xray.map((s) => [actionsOf([s]), s.Resource])).toEqual([[XRAY, '*']]);
    // The trainer may invoke its on-failure destination; for batch prediction, send to the extract queue and
    // put its completion event on the default bus; nothing else.
    const trainOther = statementsOfFunction(stack.train.fn).filter((s) => actionsOf([s]).some((a) => !a.startsWith('s3:') && !XRAY.includes(a)));
    const queueArn = { 'Fn::GetAtt': [logicalId(stack, stack.ingest!.queue), 'Arn'] };
    const defaultBus = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']] };
    expect(trainOther.map((s) => [actionsOf([s]), s.Resource])).toEqual([
      [['lambda:InvokeFunction'], [{ 'Fn::GetAtt': [logicalId(stack, stack.train.failedFn), 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack, stack.train.failedFn), 'Arn'] }, ':*']] }]],
      [['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], queueArn],
      [['events:PutEvents'], defaultBus],
    ]);
    // The predict function: its on-failure destination (the train function's) and the completion event; no queue.
    const predictOther = statementsOfFunction(stack.predict.fn).filter((s) => actionsOf([s]).some((a) => !a.startsWith('s3:') && !XRAY.includes(a)));
    expect(predictOther.map((s) => [actionsOf([s]), s.Resource])).toEqual([
      [['lambda:InvokeFunction'], [{ 'Fn::GetAtt': [logicalId(stack, stack.train.failedFn), 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack, stack.train.failedFn), 'Arn'] }, ':*']] }]],
      [['events:PutEvents'], defaultBus],
    ]);
  });
});
