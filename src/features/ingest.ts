import type { ObjectStore } from '../store/index.js';
import type { IngestOptions, IngestOutcome, IngestPipeline, IngestRecord } from './ingest-types.js';
import { IngestRun } from './ingest-run.js';

export type { IngestOptions, IngestOutcome, IngestPipeline, IngestRecord, IngestStatus, LinkRecord } from './ingest-types.js';

/**
 * Turns image objects into cached feature tensors. Content-addressed and idempotent: the same bytes are
 * extracted once whatever their key, and a redelivered record writes nothing. A bad image fails alone
 * (an `errors/<sha256>.json` record, never retried); a storage hiccup is reported as `retry`.
 *
 * One call is a pipeline (ingest-run.ts): the next images' reads overlap this model call, and the
 * features are written while the next model call runs; the call returns once every write is done, so an
 * outcome that says `extracted` or `cached` is durable and the caller may acknowledge its record.
 */
export class Ingestor {
  private readonly maxImageBytes: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly pipeline: IngestPipeline,
    private readonly options: IngestOptions = {},
  ) {
    this.maxImageBytes = options.maxImageBytes ?? 50 * 1024 * 1024;
  }

  /** One outcome per record, in record order. Throws only for a storage error no retry can cure. */
  async ingest(records: readonly IngestRecord[]): Promise<IngestOutcome[]> {
    const run = new IngestRun(this.store, this.pipeline, this.maxImageBytes, this.options.readAhead);
    const outcomes = await run.run(records);
    this.options.onTiming?.(run.clock.report(records.length));
    return outcomes;
  }
}
