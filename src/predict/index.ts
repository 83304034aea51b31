/**
 * Batch prediction jobs (POST /predict, `headstart predict`): every image under a prefix classified with a
 * head (cached features skip the base; the rest go through the upload path first and are cached) or a whole
 * model; results in predictions/<jobId>/, completion announced by event and webhook. The job records,
 * request and transitions are src/jobs'.
 */
export { runPredictJob, summaryOf, PREDICT_FAILURES_KEPT, type CompletionEvents, type ImageClassifier, type PredictSummary, type RunPredictOptions } from './run.js';
export { inProcessExtraction, queuedExtraction, type PendingExtraction, type QueuedExtractionOptions } from './extract.js';
export { deliverWebhook, type WebhookOptions } from './webhook.js';
export { resendWebhooks } from './resend.js';
export { toCsv, toJsonl, type PredictionRow, type PredictionSource } from './results.js';
export * from './errors.js';
