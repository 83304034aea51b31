import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { Alarms } from './alarms.js';
import type { Api } from './api.js';
import type { GpuBatch } from './batch.js';
import type { Classify } from './classify.js';
import type { Ingest } from './ingest.js';
import type { Predict } from './predict.js';
import type { Storage } from './storage.js';
import type { Train } from './train.js';
import { FINETUNED_PREFIX, PREFIX } from './storage.js';

/**
 * Every finding of AWS's own checks that the stack keeps on purpose, each with its one-line reason, on the
 * narrowest construct it applies to: cdk-nag (AwsSolutions, Serverless: `AwsSolutions-…`, `Serverless-…`) and
 * the Control Tower Guard rules (`CT.…`, @cdklabs/cdk-validator-cfnguard). test/unit/infra/aws-checks.test.ts
 * runs both on the default stack and the knob variants, and fails on any finding not listed here.
 * What the checks found and we fixed instead (alarm topic policy, SigV4, tracing, access logs, …) is not here.
 */
/** The parts of HeadstartStack the acknowledgments name (structural, so this module does not import the stack). */
export interface AcknowledgedStack extends IConstruct {
  readonly storage: Storage;
  readonly ingest?: Ingest;
  readonly train: Train;
  readonly classify: Classify;
  readonly predict: Predict;
  readonly api: Api;
  readonly alarms: Alarms;
  readonly gpuBatch?: GpuBatch;
}

export function acknowledgeFindings(stack: AcknowledgedStack): void {
  const ack = (scope: IConstruct | undefined, ...rules: [id: string, reason: string][]) => {
    if (scope) Validations.of(scope).acknowledge(...rules.map(([id, reason]) => ({ id, reason })));
  };
  const bucketArn = `<${Stack.of(stack).getLogicalId(stack.storage.bucket.node.defaultChild as CfnElement)}.Arn>`;
  const prefixes = [...Object.values(PREFIX), FINETUNED_PREFIX, `${PREFIX.features}*/shards/`, `${PREFIX.features}*/issues/`];

  ack(stack,
    ...prefixes.map((prefix): [string, string] => [`AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
      'Object grants are scoped to one key prefix each (infra/grants.ts); keys below it are content hashes and ids.']),
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The managed basic role grants only CloudWatch Logs writes to the function\'s own log group.'],
    ['AwsSolutions-IAM5[Resource::*]', 'Only X-Ray segment uploads and batch:ListJobs, which take no resource ARN.'],
    ['AwsSolutions-L1', 'nodejs22.x is the runtime the project targets and the artifact harness proves (DESIGN.md).'],
    ['Serverless-LambdaLatestVersion', 'nodejs22.x is the runtime the project targets and the artifact harness proves (DESIGN.md).'],
    ['CT.CLOUDWATCH.PR.2', 'Logs are kept 1-3 months: an idle stack should cost nothing; retention is one line to raise.'],
    ['CT.CLOUDWATCH.PR.3', 'Log groups use CloudWatch\'s own encryption; no request bodies or image data are logged.'],
    ['CT.LAMBDA.PR.3', 'No VPC for the functions: it would need a NAT gateway or endpoints, the only cost of an idle stack.'],
    ['CT.S3.PR.9', 'No Object Lock: DELETE /models/{id} and lifecycle expiry must be able to delete; versioning keeps 30 days.'],
    ['CT.S3.PR.10', 'SSE-S3, not KMS: presigned browser uploads and S3 log delivery need no key policy (infra/storage.ts).'],
    ['CT.S3.PR.4', 'Only the data bucket\'s images/ prefix needs events (to the ingest queue); the notification is a custom resource.'],
  );

  const { api } = stack;
  ack(api.restApi,
    ['AwsSolutions-APIG2', 'Every handler validates its input and answers 400 listing the valid values; a schema copy here would be a second validator.'],
    ['AwsSolutions-APIG3', 'No WAF (its web ACL is a fixed monthly cost): SigV4 on every method plus per-route throttles and a daily quota.'],
    ['AwsSolutions-COG4', 'Callers are IAM principals (SigV4), not Cognito users; apiKey mode is the documented trial exception.'],
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level role API Gateway needs to write access and execution logs.'],
    ['CT.LAMBDA.PR.2', 'These permissions let only apigateway.amazonaws.com invoke, for this API\'s own method ARNs (SourceArn).'],
  );
  ack(api.fn,
    ['Serverless-LambdaDLQ', 'Invoked synchronously by API Gateway: the caller gets the error; there is nothing to redeliver.']);
  ack(stack.classify.fn,
    ['Serverless-LambdaDLQ', 'Invoked synchronously by API Gateway: the caller gets the error; there is nothing to redeliver.']);
  ack(stack.train.fn,
    ['Serverless-LambdaDLQ', 'Its asynchronous failures go to an on-failure destination that marks the job failed (functions/train-failed).'],
    [`AwsSolutions-IAM5[Resource::<${Stack.of(stack).getLogicalId(stack.train.failedFn.node.defaultChild as CfnElement)}.Arn>:*]`,
      'Invoking its own on-failure destination, any version (CDK grants function ARN and versions).']);
  ack(stack.predict.fn,
    ['Serverless-LambdaDLQ', 'Its asynchronous failures go to the train function\'s on-failure destination, which marks the job failed (functions/train-failed).'],
    [`AwsSolutions-IAM5[Resource::<${Stack.of(stack).getLogicalId(stack.train.failedFn.node.defaultChild as CfnElement)}.Arn>:*]`,
      'Invoking its on-failure destination, any version (CDK grants function ARN and versions).']);
  ack(api.fn,
    [`AwsSolutions-IAM5[Resource::<${Stack.of(stack).getLogicalId(stack.predict.fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      'Invoking the predict function, any version (CDK grants function ARN and versions).']);
  ack(stack.train.failedFn,
    ['Serverless-LambdaDLQ', 'The on-failure destination itself; its own failures reach the TrainFailedErrors alarm.']);
  ack(api.fn,
    [`AwsSolutions-IAM5[Resource::<${Stack.of(stack).getLogicalId(stack.train.fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      'Invoking the train function, any version (CDK grants function ARN and versions).']);

  const log = stack.storage.accessLogBucket;
  ack(log,
    ['CT.S3.PR.2', 'The access-log bucket itself: logging it would log the log deliveries.'],
    ['CT.S3.PR.11', 'Access logs are written once and expire after 90 days; versions would only double them.'],
  );

  const { ingest } = stack;
  ack(ingest?.fn,
    ['Serverless-LambdaDLQ', 'Fed by SQS: failed messages go to the queue\'s dead-letter queue after 3 receives (alarmed).'],
    ['Serverless-LambdaEventSourceMappingDestination', 'The queue\'s redrive policy is the failure destination (3 receives, then the DLQ).']);
  ack(ingest?.deadLetterQueue,
    ['Serverless-SQSRedrivePolicy', 'This is the dead-letter queue; it has no further one.'],
    ['CT.SQS.PR.1', 'This is the dead-letter queue; it has no further one.']);

  const { alarms } = stack;
  ack(alarms.batchFailureRule,
    ['Serverless-EventBusDLQ', 'A failed delivery of a failure notice loses nothing: the BatchJobFailures alarm counts the rule\'s matches.']);
  ack(alarms.topic,
    ['Serverless-SNSRedrivePolicy', 'Email subscriptions: an undeliverable alarm email has nowhere better to go; the alarm state stays in CloudWatch.']);

  const gpu = stack.gpuBatch;
  ack(gpu?.vpc,
    ['AwsSolutions-VPC7', 'No flow logs: instances have no inbound rule and reach S3 through the gateway endpoint; logs would be the idle cost.'],
    ['CT.EC2.PR.11', 'Public subnets without NAT by design (infra/batch.ts): no inbound rule, and a NAT gateway would cost ~$33/month idle.']);
  ack(gpu?.computeEnvironment,
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      'The ECS agent on Batch instances needs this managed role (AWS Batch documentation).']);
}
