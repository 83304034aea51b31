import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export { MetricUnit };

/**
 * The functions' CloudWatch metrics, as embedded metric format (EMF) lines in the function's log: CloudWatch
 * turns them into metrics with no API call and no extra permission. A handler adds its values and
 * `.use(logMetrics(metrics))` writes them once per invocation. Namespace `POWERTOOLS_METRICS_NAMESPACE`,
 * default 'headstart'; dimension `service` (`POWERTOOLS_SERVICE_NAME`, default 'headstart').
 *
 * Metrics: ImagesExtracted, ExtractionFailures (permanent: bad images) and ExtractionRetries (transient) per
 * extract invocation; HeadTrainingTime (ms) per train invocation. Off with POWERTOOLS_DEV (tests) or
 * POWERTOOLS_METRICS_DISABLED=true (`headstart dev` sets it: EMF lines are for CloudWatch, not a terminal).
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'headstart',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'headstart',
});
