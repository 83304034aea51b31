import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  /** The extraction dead-letter queue, when the Lambda path is deployed. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Functions to watch, by a short name used in alarm names. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly restApi: apigw.RestApi;
  /** When the GPU path is deployed: failed jobs on this queue (extraction or fine-tuning) alert too. */
  readonly jobQueue?: batch.IJobQueue;
  readonly alarmEmail?: string;
}

const PERIOD = Duration.minutes(5);

/**
 * Everything that means "something needs a human" goes to one SNS topic: a message in the dead-letter queue
 * (an image failed three times), any function error or throttle, API 5xx (always our fault, by design), and
 * any failed Batch job.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly batchFailureRule?: events.Rule;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'headstart alarms', enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    if (props.deadLetterQueue) {
      this.anyAbove('DeadLetters', 'An image failed extraction 3 times: inspect the dead-letter queue',
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }));
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      this.anyAbove(`${name}Errors`, `The ${name} function reported errors`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }));
      this.anyAbove(`${name}Throttles`, `The ${name} function was throttled`, fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }));
    }
    this.anyAbove('Api5xx', 'The API answered 5xx', props.restApi.metricServerError({ period: PERIOD, statistic: 'Sum' }));
    if (props.jobQueue) this.batchFailureRule = this.watchBatch(props.jobQueue);
    this.allowAlarmsToPublish();
  }

  /**
   * The topic's policy replaces SNS's default one (enforceSSL and the EventBridge target write it), and that
   * default is what let same-account CloudWatch alarms publish. Without this statement no alarm ever notifies.
   * Only this stack's alarms, from this account: https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
   */
  private allowAlarmsToPublish(): void {
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.alarms.map((alarm) => alarm.alarmArn) },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
  }

  /** Alarm when the metric is above zero; missing data (no traffic) is fine. */
  private anyAbove(id: string, description: string, metric: cloudwatch.IMetric): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: description,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** Batch publishes job state changes to EventBridge; FAILED ones on our queue go to the topic and count in an alarm. */
  private watchBatch(jobQueue: batch.IJobQueue): events.Rule {
    const rule = new events.Rule(this, 'BatchJobFailed', {
      description: 'headstart GPU batch job (extraction or fine-tuning) failed',
      eventPattern: {
        source: ['aws.batch'],
        detailType: ['Batch Job State Change'],
        detail: { status: ['FAILED'], jobQueue: [jobQueue.jobQueueArn] },
      },
    });
    rule.addTarget(
      new targets.SnsTopic(this.topic, {
        message: events.RuleTargetInput.fromText(
          `headstart batch job ${events.EventField.fromPath('$.detail.jobName')} (${events.EventField.fromPath('$.detail.jobId')}) failed: ${events.EventField.fromPath('$.detail.statusReason')}`,
        ),
      }),
    );
    this.anyAbove('BatchJobFailures', 'A GPU batch job (extraction or fine-tuning) failed',
      new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: rule.ruleName },
        statistic: 'Sum',
        period: PERIOD,
      }));
    return rule;
  }
}
