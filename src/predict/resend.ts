import { readJob, writeJob } from '../jobs/records.js';
import type { PredictJobRecord } from '../jobs/types.js';
import { logger } from '../logger.js';
import type { ObjectStore } from '../store/index.js';
import { summaryOf } from './run.js';
import { deliverWebhook, type WebhookOptions } from './webhook.js';

/**
 * Delivers the completion webhook of finished prediction jobs whose record keeps no delivery (recoverJobs'
 * `unannounced`: the server died between the job's final record and its webhook's), one after another, with the same
 * summary and retry rules as a job that ends normally. Each delivery is written to its job with `afterRestart: true`.
 * A job that has meanwhile recorded a delivery is skipped; a delivery cut short by `options.signal` (the server
 * closing) is not recorded, so the next start tries again. Never throws: a record that cannot be read or written is logged.
 */
export async function resendWebhooks(store: ObjectStore, jobIds: readonly string[], options: WebhookOptions = {}): Promise<PredictJobRecord[]> {
  const sent: PredictJobRecord[] = [];
  for (const jobId of jobIds) {
    if (options.signal?.aborted) break;
    try {
      const job = await readJob(store, jobId);
      if (job.kind !== 'predict' || !job.request.webhook || job.webhook) continue;
      const webhook = await deliverWebhook(job.request.webhook, summaryOf(job), options);
      if (options.signal?.aborted) break;
      // Re-read: the record may have changed while the webhook was being delivered (it never should, but its last word wins).
      const current = await readJob(store, jobId);
      if (current.kind !== 'predict' || current.webhook) continue;
      const done: PredictJobRecord = { ...current, webhook: { ...webhook, afterRestart: true } };
      await writeJob(store, done);
      logger[webhook.delivered ? 'info' : 'warn']('prediction job webhook sent again after a restart', { jobId, ...webhook });
      sent.push(done);
    } catch (error) {
      logger.error('could not send a prediction job webhook again after a restart', { jobId, error });
    }
  }
  return sent;
}
