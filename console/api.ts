/** The HTTP API, called from the page's own origin (`npm start`, or `headstart console --api`'s proxy). */

const KEY_STORAGE = 'headstart.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function apiKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  window.dispatchEvent(new Event('headstart:key'));
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey();
  return key ? { 'x-api-key': key, ...extra } : extra;
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  let code = `Http${response.status}`;
  let message = text || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    code = body.error?.code ?? code;
    message = body.error?.message ?? body.message ?? message;
  } catch {
    // not JSON: keep the text
  }
  if (response.status === 403) {
    window.dispatchEvent(new Event('headstart:forbidden'));
    message = apiKey() ? 'The API key was refused (403): enter the right one above.' : 'The API needs a key (403): enter it above.';
  }
  return new ApiError(response.status, code, message);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: headers() };
  if (body instanceof Blob) {
    init.body = body;
    init.headers = headers({ 'content-type': body.type || 'application/octet-stream' });
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = headers({ 'content-type': 'application/json' });
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

const thumbnails = new Map<string, Promise<string>>();

/** An object URL of the image's thumbnail (fetched with the API key, which an <img src> cannot send); cached. */
export function thumbnailUrl(key: string, size = 160): Promise<string> {
  const id = `${size}:${key}`;
  let url = thumbnails.get(id);
  if (!url) {
    url = (async () => {
      const response = await fetch(`/thumbnails?key=${encodeURIComponent(key)}&size=${size}`, { headers: headers({ accept: 'image/jpeg' }) });
      if (!response.ok) throw await failure(response);
      return URL.createObjectURL(await response.blob());
    })();
    url.catch(() => thumbnails.delete(id));
    thumbnails.set(id, url);
  }
  return url;
}

export function forgetThumbnails(): void {
  thumbnails.clear();
}

/** Uploads one image through a presigned PUT (POST /uploads): no size limit of the API on the way. */
export async function uploadImage(dataset: string, label: string, file: File): Promise<string> {
  const contentType = IMAGE_TYPES.includes(file.type) ? file.type : undefined;
  const signed = await post<{ key: string; url: string; method: string; headers: Record<string, string> }>('/uploads', { dataset, label, file: file.name, contentType });
  const response = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: file });
  if (!response.ok) throw new ApiError(response.status, 'UploadFailed', `PUT ${signed.key} failed: ${response.status} ${await response.text()}`);
  return signed.key;
}

/** What POST /uploads accepts as contentType (functions/api/routes/uploads.ts). */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'image/bmp'];

export interface LabelCounts {
  images: number;
  extracted: number;
  failed: number;
  pending: number;
}

export interface DatasetStatus {
  dataset: string;
  namespace: string;
  labels: Record<string, LabelCounts>;
  totals: LabelCounts;
  training: { ready: boolean; error?: { code: string; message: string } };
  failures: Array<{ key: string; label: string; code: string; reason: string }>;
  failuresTruncated: boolean;
  images?: Array<{ key: string; status: string; code?: string; reason?: string }>;
  imagesTruncated?: boolean;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  elapsedMs: number;
  etaMs: number;
}

export interface Job {
  jobId: string;
  kind: 'train' | 'finetune' | 'predict' | 'issues';
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: { epoch: number; epochs: number; loss: number | null; accuracy: number | null; valLoss: number | null; valAccuracy: number | null; etaMs: number | null; batch?: number; batches?: number; images?: ImageProgress };
  history: EpochLog[];
  error?: { code: string; message: string };
  headId?: string;
  modelId?: string;
  /** A training job's dataset; a prediction job's PredictRequest. */
  request: { dataset?: string } & Partial<PredictRequest>;
  worker?: { status: string; statusReason?: string };
  /** Prediction jobs (src/jobs/types.ts PredictJobRecord). */
  results?: { jsonl: string; csv: string };
  failures?: Array<{ key: string; code: string; message: string }>;
  webhook?: { url: string; delivered: boolean; attempts: number; lastStatus: number | null; lastError?: string; at?: string; afterRestart?: true };
  imagesPerSecond?: number;
}

/** POST /predict: one of dataset/prefix, one of head/model. */
export interface PredictRequest {
  dataset?: string;
  prefix?: string;
  head?: string;
  model?: string;
  top?: number;
  webhook?: string;
}

/** A prediction job's progress over its images (GET /jobs/{id} progress.images). */
export interface ImageProgress {
  phase: 'listing' | 'extracting' | 'predicting' | 'writing';
  total: number;
  cached: number;
  extracted: number;
  predicted: number;
  failed: number;
}

/** One line of results.jsonl: an image's label, probability and top-k, or why it failed. */
export type PredictionRow =
  | { key: string; label: string; probability: number; top: Array<{ label: string; probability: number }>; source: 'cached' | 'extracted' | 'model' }
  | { key: string; error: { code: string; message: string } };

/** GET /jobs/{id}/results (functions/api/routes/predictions.ts). */
export interface ResultsPage {
  jobId: string;
  offset: number;
  limit: number;
  only?: 'failed' | 'predicted';
  total: number | null;
  rows: PredictionRow[];
  nextOffset: number | null;
}

/**
 * A URL the browser can download a prediction job's results file from: the presigned GET the API answers for
 * `Accept: application/json`, or, where the API answers the file itself, an object URL of it.
 */
export async function resultsFileUrl(jobId: string, format: 'csv' | 'jsonl'): Promise<{ url: string; expiresAt?: string }> {
  const response = await fetch(`/jobs/${encodeURIComponent(jobId)}/results?format=${format}`, { headers: headers({ accept: 'application/json' }) });
  if (!response.ok) throw await failure(response);
  if ((response.headers.get('content-type') ?? '').includes('application/json')) return (await response.json()) as { url: string; expiresAt: string };
  return { url: URL.createObjectURL(await response.blob()) };
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluationSample {
  key: string;
  label: string;
  predicted: string;
  probability: number;
}

export interface ModelMetrics {
  accuracy: number;
  loss?: number;
  perClass: Record<string, ClassMetrics>;
  confusionMatrix: number[][];
  labels: string[];
  evaluatedOn?: string;
  rows?: number;
  history?: EpochLog[];
  /** Per-image results, where the trainer keeps them. */
  evaluation?: { source?: string; samples?: EvaluationSample[] };
}

export interface ModelDetails {
  headId?: string;
  modelId?: string;
  dataset: string;
  labels: string[];
  createdAt?: string;
  publishedAt?: string;
  base?: { model: string; namespace: string };
  metrics: ModelMetrics;
}

export interface ModelSummary {
  headId?: string;
  modelId?: string;
  dataset: string;
  labels: string[];
  model?: string;
  accuracy?: number;
  createdAt?: string;
}

export interface Defaults {
  model: string;
  head: { hidden: number[]; dropout: number; learningRate: number; epochs: number; batchSize: number; validationSplit: number; patience: number; seed: number };
  finetune: { epochs: number; batchSize: number; learningRate: number; patience: number; validationSplit: number; augment: object; unfreeze: string[] };
}

export interface Prediction {
  label: string;
  score: number;
}

/** GET /datasets/{name}/issues (src/datatools/issues.ts): each list most suspicious first. */
export interface DatasetIssues {
  dataset: string;
  against?: string;
  images: number;
  duplicates: Array<{ keys: string[]; score: number; kind: 'identical' | 'near' }>;
  leakage: Array<{ key: string; otherKey: string; score: number; kind: 'identical' | 'near' }>;
  labelIssues: Array<{ key: string; givenLabel: string; suggestedLabel: string; score: number }>;
  outliers: Array<{ key: string; label: string; score: number }>;
  notes: string[];
  method: { nearDuplicateCosine: number; labelIssuesSource: string };
  cached?: boolean;
  computeMs?: number;
}

/** One entry of GET /reviews?dataset= (src/datatools/reviews.ts). */
export interface Review {
  id: string;
  dataset: string;
  reason: 'requested' | 'lowConfidence';
  predictions: Prediction[];
  model: string;
  head?: string;
  createdAt: string;
}
