import { createInterface } from 'node:readline';
import { InvalidArgumentError, listValues } from '../../../src/errors.js';
import { readJob } from '../../../src/jobs/records.js';
import type { PredictJobRecord } from '../../../src/jobs/types.js';
import type { ObjectStore } from '../../../src/store/index.js';
import type { ApiDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';
import { downloadAnswer } from '../uploads.js';

/** Rows one page holds at most (and by default). */
export const RESULTS_PAGE = { default: 100, max: 500 } as const;
/** Lifetime of a presigned results URL. */
export const RESULTS_URL_TTL_SECONDS = 900;

const ONLY = ['failed', 'predicted'] as const;
const FORMATS = ['csv', 'jsonl'] as const;
const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson' } as const;

function integer(query: Record<string, string>, name: string, min: number, max: number, fallback: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`'${name}' must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  return value;
}

/** A prediction job whose results are written, or the reason there are none (yet). */
async function finishedPredictJob(store: ObjectStore, jobId: string): Promise<PredictJobRecord & { results: { jsonl: string; csv: string } }> {
  const job = await readJob(store, jobId);
  if (job.kind !== 'predict') throw new InvalidArgumentError(`Job '${job.jobId}' is a ${job.kind} job; only batch prediction jobs (POST /predict) have results.`);
  if (!job.results) {
    const why = job.status === 'failed' ? `it failed before writing them (${job.error?.code ?? 'unknown'}: ${job.error?.message ?? 'no reason recorded'})` : `it is ${job.status}; they are written when it ends (GET /jobs/${job.jobId})`;
    throw new HttpError('ResultsNotReady', `Job '${job.jobId}' has no results: ${why}.`);
  }
  return job as PredictJobRecord & { results: { jsonl: string; csv: string } };
}

/**
 * Rows `offset`..`offset + limit` of results.jsonl (after the `only` filter), read as a stream that stops once the
 * page is full, so an early page of a large job reads only its start. One row past the page says whether there is more.
 */
async function readPage(store: ObjectStore, key: string, offset: number, limit: number, only: (typeof ONLY)[number] | undefined) {
  const stream = await store.getStream(key);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const rows: unknown[] = [];
  let index = 0;
  let more = false;
  try {
    for await (const line of lines) {
      if (line === '') continue;
      if (only !== undefined) {
        if ((only === 'failed') !== ('error' in (JSON.parse(line) as object))) continue;
      }
      if (index++ < offset) continue;
      if (rows.length === limit) {
        more = true;
        break;
      }
      rows.push(JSON.parse(line));
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { rows, more };
}

/**
 * GET /jobs/{id}/results: a finished batch prediction job's results page by page, in key order as in results.jsonl
 * (`{ key, label, probability, top, source }` or `{ key, error }` per image). `offset` (default 0), `limit` (default
 * RESULTS_PAGE.default, at most RESULTS_PAGE.max), `only=failed|predicted`. The answer says `total` (rows in the job, by
 * its record; unfiltered), `nextOffset` (null on the last page) and where the files are.
 * `?format=csv|jsonl` answers the whole file instead: with a signer a `303 See Other` to a presigned GET (for
 * `Accept: application/json`, `200 { url, expiresAt, bytes, fileName }`), else the file as the body.
 * 409 ResultsNotReady while the job is queued or running, or when it failed before writing them; 400 for another kind of job.
 */
export function predictionRoutes(deps: ApiDeps): Route[] {
  async function results(request: ApiRequest): Promise<ApiResponse> {
    const { query } = request;
    const format = query.format;
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw new InvalidArgumentError(`'format' must be one of ${listValues(FORMATS)} (or left out for a page of rows as JSON), got ${JSON.stringify(format)}.`);
    const only = query.only;
    if (only !== undefined && !(ONLY as readonly string[]).includes(only)) throw new InvalidArgumentError(`'only' must be one of ${listValues(ONLY)}, got ${JSON.stringify(only)}.`);
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = integer(query, 'limit', 1, RESULTS_PAGE.max, RESULTS_PAGE.default);
    const job = await finishedPredictJob(deps.store, request.params.id!);
    if (format !== undefined) {
      const kind = format as (typeof FORMATS)[number];
      return downloadAnswer(request, deps.store, deps.downloads, { key: job.results[kind], fileName: `${job.jobId}-results.${kind}`, contentType: CONTENT_TYPES[kind], ttlSeconds: RESULTS_URL_TTL_SECONDS });
    }
    const page = await readPage(deps.store, job.results.jsonl, offset, limit, only as (typeof ONLY)[number] | undefined);
    const images = job.progress.images;
    return {
      statusCode: 200,
      body: {
        jobId: job.jobId,
        offset,
        limit,
        ...(only ? { only } : {}),
        total: images ? images.predicted + images.failed : null,
        rows: page.rows,
        nextOffset: page.more ? offset + page.rows.length : null,
        files: job.results,
      },
    };
  }

  return [{ method: 'GET', path: '/jobs/{id}/results', handler: results }];
}
