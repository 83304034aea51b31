/**
 * Where one ingest batch spends its time: each stage's operations are timed as spans, so a report can say
 * both how long a stage was busy (the union of its spans: the wall time it held the batch up, were nothing
 * overlapped) and how much work it did (the sum). Stages overlap on purpose (the next images' GETs run
 * while the model runs), so busy times add up to more than the batch's wall time.
 */

/** The stages of one batch, in the order an image goes through them. */
export const INGEST_STAGES = [
  /** Waiting in the queue for the batch to fill, until the handler gets it. */
  'receive',
  /** Reading the image bytes (and its size, when the event lacks it). */
  'get',
  /** The check before compute: does a feature for these bytes exist, and what does the key's link say. */
  'check',
  'decode',
  'preprocess',
  'infer',
  /** The safetensors file of one image's features. */
  'encode',
  'putFeature',
  'putLink',
  /** From the handler's answer to the queue marking the records done. */
  'ack',
] as const;
export type IngestStage = (typeof INGEST_STAGES)[number];

/** The S3 request kinds a stage makes, as S3 bills them. */
export type StoreRequest = 'GET' | 'HEAD' | 'PUT';

export interface StageSummary {
  /** Wall time with at least one of the stage's operations in progress. */
  busyMs: number;
  /** The operations' durations added up. */
  sumMs: number;
  count: number;
}

/** One batch's timing, as `StageClock.report` gives it. */
export interface BatchTiming {
  images: number;
  wallMs: number;
  stages: Partial<Record<IngestStage, StageSummary>>;
  requests: Record<StoreRequest, number>;
}

/** What a pipeline needs to report its part of a batch (decode, preprocess, infer). */
export interface StageRecorder {
  time<T>(stage: IngestStage, run: () => Promise<T> | T): Promise<T>;
}

/** Records the spans of one batch. Create one per batch (per invocation): it is never shared. */
export class StageClock implements StageRecorder {
  private readonly started = performance.now();
  private readonly spans = new Map<IngestStage, Array<[number, number]>>();
  private readonly requests: Record<StoreRequest, number> = { GET: 0, HEAD: 0, PUT: 0 };

  async time<T>(stage: IngestStage, run: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await run();
    } finally {
      this.add(stage, start, performance.now());
    }
  }

  /** Times one S3 request of `stage` and counts it. */
  request<T>(stage: IngestStage, kind: StoreRequest, run: () => Promise<T>): Promise<T> {
    this.requests[kind]++;
    return this.time(stage, run);
  }

  /** A span measured elsewhere, e.g. by the queue that delivered the batch. */
  add(stage: IngestStage, start: number, end: number): void {
    const list = this.spans.get(stage) ?? [];
    list.push([start, end]);
    this.spans.set(stage, list);
  }

  report(images: number): BatchTiming {
    const stages: BatchTiming['stages'] = {};
    for (const stage of INGEST_STAGES) {
      const spans = this.spans.get(stage);
      if (spans) stages[stage] = summarize(spans);
    }
    return { images, wallMs: performance.now() - this.started, stages, requests: { ...this.requests } };
  }
}

function summarize(spans: Array<[number, number]>): StageSummary {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let busyMs = 0;
  let sumMs = 0;
  let [from, to] = sorted[0]!;
  for (const [start, end] of sorted) {
    sumMs += end - start;
    if (start > to) {
      busyMs += to - from;
      [from, to] = [start, end];
    } else to = Math.max(to, end);
  }
  return { busyMs: busyMs + (to - from), sumMs, count: spans.length };
}
