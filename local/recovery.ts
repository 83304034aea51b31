import type { DatasetRecovery, RecoveryStatus } from '../functions/api/deps.js';
import type { TrainLauncher } from '../functions/api/launchers.js';
import { backfill } from '../src/features/backfill.js';
import { parseImageKey, PREFIX } from '../src/layout.js';
import type { FeaturePipeline } from '../src/features/pipeline.js';
import { recoverJobs } from '../src/jobs/index.js';
import { resendWebhooks } from '../src/predict/resend.js';
import type { WebhookOptions } from '../src/predict/webhook.js';
import { logger } from '../src/logger.js';
import type { ObjectStore } from '../src/store/index.js';

/** Passes over the images a transient failure (S3 busy, a timeout) left pending, then they wait for POST /backfill. */
const PASSES = 3;
const RETRY_DELAY_MS = 2000;

export interface RecoveryOptions {
  store: ObjectStore;
  pipeline: FeaturePipeline;
  log: (line: string) => void;
  /** How the webhooks of prediction jobs the last run finished but never announced are sent again (the jobs' own rules). */
  webhook?: WebhookOptions;
}

/**
 * The local stack's startup reconciliation: what its previous run left undone, found from the bucket
 * alone, because the bucket is the journal. An upload is acknowledged only once its object is on disk,
 * and an image is done only once its link (features or the failure) is written, so "images with no
 * up-to-date link" (src/features/pending.ts) is exactly the work lost with the in-memory event queue
 * (a crash, `kill -9`, a restart); a separate journal would record the same thing twice and could
 * disagree with the bucket. Jobs: src/jobs/recover.ts.
 *
 * `start` recovers jobs before the API answers (so a new POST /train is never launched twice), then
 * extracts the pending images in the background with the bulk backfill; GET /datasets/{name} shows its
 * progress (`forDataset`). `close` stops it between batches; the next start takes the rest. A prediction job that had
 * ended but whose webhook delivery was not recorded yet is announced again (src/predict/resend.ts).
 */
export class StartupRecovery implements RecoveryStatus {
  private readonly datasets = new Map<string, DatasetRecovery>();
  /** Per dataset, what its recovery follows: 'a restart', 'the S3 server process restarted'. */
  private readonly why = new Map<string, string>();
  private readonly controller = new AbortController();
  private extraction: Promise<void> = Promise.resolve();
  private webhooks: Promise<void> = Promise.resolve();

  constructor(private readonly options: RecoveryOptions) {}

  forDataset(dataset: string): DatasetRecovery | undefined {
    const note = this.datasets.get(dataset);
    return note && { ...note };
  }

  /**
   * Jobs first (awaited), then, in the background (`idle()` waits for both), the webhooks of prediction jobs the last
   * run finished but died before announcing, and the extraction of pending images.
   */
  async start(launchers: { train: TrainLauncher; finetune?: TrainLauncher; predict?: TrainLauncher; issues?: TrainLauncher }): Promise<void> {
    const { store, log } = this.options;
    const jobs = await recoverJobs(store, (kind) => launchers[kind]);
    if (jobs.relaunched.length + jobs.resumed.length + jobs.failed.length) {
      log(
        `Recovering jobs the last run left unfinished: ${jobs.relaunched.length} queued started again, ` +
          `${jobs.resumed.length} running again (fine-tuning from its checkpoint, prediction with what it extracted cached, dataset issues computed again), ${jobs.failed.length} failed (TrainerLost, see GET /jobs/{id}).`,
      );
    }
    if (jobs.unannounced.length) {
      log(`Sending again the completion webhook of ${jobs.unannounced.length} prediction job(s) the last run finished but had not announced (${jobs.unannounced.join(', ')}).`);
      this.webhooks = resendWebhooks(store, jobs.unannounced, { ...this.options.webhook, signal: this.controller.signal }).then((sent) => {
        const delivered = sent.filter((job) => job.webhook?.delivered).length;
        if (sent.length) log(`Webhooks sent again after a restart: ${delivered} of ${sent.length} delivered${delivered < sent.length ? ' (GET /jobs/{id} says why not)' : ''}.`);
      });
    }
    this.extraction = this.extractPending('a restart').catch((error: unknown) => logger.error('startup reconciliation failed', { error }));
  }

  /**
   * Runs the reconciliation again while the stack is up (after the S3 server process was restarted: the
   * events it took with it are found the same way, from the bucket). Queued behind a pass still running.
   */
  reconcile(why: string): Promise<void> {
    this.extraction = this.extraction
      .then(() => this.extractPending(why))
      .catch((error: unknown) => logger.error('reconciliation failed', { why, error }));
    return this.extraction;
  }

  /** Resolves when the startup extraction and webhook deliveries have finished (or stopped). */
  async idle(): Promise<void> {
    await Promise.all([this.extraction, this.webhooks]);
  }

  async close(): Promise<void> {
    this.controller.abort();
    await Promise.all([this.extraction, this.webhooks]);
  }

  private async extractPending(why: string): Promise<void> {
    const { store, pipeline, log } = this.options;
    const signal = this.controller.signal;
    for (let pass = 1; pass <= PASSES && !signal.aborted; pass++) {
      let retry = 0;
      const summary = await backfill(store, pipeline, PREFIX.images, {
        signal,
        onPlan: ({ keys }) => {
          const found = new Map<string, number>();
          for (const key of keys) {
            const dataset = parseImageKey(key)!.dataset;
            found.set(dataset, (found.get(dataset) ?? 0) + 1);
          }
          for (const [dataset, count] of found) {
            const note = this.datasets.get(dataset);
            // A later pass keeps the first pass's counts: it only retries what that one could not do.
            if (!note || (pass === 1 && note.state === 'done')) {
              this.datasets.set(dataset, { state: 'extracting', found: count, extracted: 0, failed: 0, message: '' });
              this.why.set(dataset, why);
            } else note.state = 'extracting';
            this.describe(dataset);
          }
          if (pass === 1 && keys.length) log(`Recovering after ${why}: extracting ${keys.length} images ${leftBy(why)} left pending (${[...found.keys()].join(', ')}).`);
        },
        onOutcome: (outcome) => {
          const note = this.datasets.get(parseImageKey(outcome.key)?.dataset ?? '');
          if (!note) return;
          if (outcome.status === 'extracted' || outcome.status === 'cached') note.extracted++;
          else if (outcome.status === 'failed') note.failed++;
          else if (outcome.status === 'retry') retry++;
          this.describe(parseImageKey(outcome.key)!.dataset);
        },
      });
      if (signal.aborted) return;
      if (retry === 0 || pass === PASSES) {
        for (const [dataset, note] of this.datasets) {
          note.state = 'done';
          this.describe(dataset, retry);
        }
        if (summary.extracted + summary.cached + summary.failed + retry > 0 || pass > 1) {
          log(`Recovered after ${why}: ${[...this.datasets.values()].reduce((n, d) => n + d.extracted, 0)} pending images extracted, ${[...this.datasets.values()].reduce((n, d) => n + d.failed, 0)} failed${retry ? `, ${retry} still failing transiently (POST /backfill retries them)` : ''}.`);
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * pass));
    }
  }

  private describe(dataset: string, stillPending = 0): void {
    const note = this.datasets.get(dataset)!;
    const failed = note.failed ? `, ${note.failed} failed (see failures)` : '';
    const why = this.why.get(dataset) ?? 'a restart';
    note.message =
      note.state === 'extracting'
        ? `Recovering after ${why}: extracting the ${note.found} images ${leftBy(why)} left pending (${why === 'a restart' ? 'startup ' : ''}reconciliation); ${note.extracted} done${failed}.`
        : `Recovered after ${why}: ${note.extracted} of the ${note.found} images ${leftBy(why)} left pending were extracted${failed}` +
          `${stillPending ? `; some still fail transiently, POST /backfill retries them` : ''}.`;
  }
}

/** Who left the images pending: the last run (a restart), or the S3 server process that died. */
function leftBy(why: string): string {
  return why === 'a restart' ? 'the last run' : 'it';
}
