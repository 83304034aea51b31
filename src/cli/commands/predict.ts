import { parseWebhookUrl } from '../../jobs/predict-request.js';
import type { PredictJobRecord, PredictRequest } from '../../jobs/types.js';
import { intOption, parse } from '../args.js';
import { UsageError, type CliIo, type Command } from '../io.js';

/** The local stack's API (`npm start`, `headstart dev`). */
export const DEFAULT_API = 'http://127.0.0.1:3000';

const OPTIONS = {
  dataset: { type: 'string' },
  prefix: { type: 'string' },
  head: { type: 'string' },
  model: { type: 'string' },
  top: { type: 'string' },
  webhook: { type: 'string' },
  wait: { type: 'boolean' },
  api: { type: 'string' },
  'api-key': { type: 'string' },
  auth: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

/** How often --wait polls GET /jobs/{id}. */
const POLL_MS = 1000;
/** How long --wait waits for the webhook's delivery after the job ended. */
const WEBHOOK_WAIT_MS = 60_000;

/** The POST /predict body the flags describe (the API validates it again, with the same rules). */
export function predictRequestOf(values: Pick<Values, 'dataset' | 'prefix' | 'head' | 'model' | 'top' | 'webhook'>): PredictRequest {
  if (!values.dataset === !values.prefix) throw new UsageError('give exactly one of --dataset <name> and --prefix <images/…>');
  if (!values.head === !values.model) throw new UsageError('give exactly one of --head <headId> and --model <zoo id | fine-tuned model id>');
  const request: PredictRequest = values.dataset ? { dataset: values.dataset } : { prefix: values.prefix! };
  if (values.head) request.head = values.head;
  if (values.model) request.model = values.model;
  if (values.top !== undefined) request.top = intOption(values.top, 'top', 5);
  if (values.webhook !== undefined) {
    try {
      request.webhook = parseWebhookUrl(values.webhook);
    } catch (error) {
      throw new UsageError(`--webhook: ${(error as Error).message}`);
    }
  }
  return request;
}

/** Sends API requests: x-api-key when given, SigV4 for `--auth iam` (a deployed stack's default), as `headstart console` does. */
type Send = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; json: unknown }>;

async function apiClient(values: Values): Promise<Send> {
  const base = new URL((values.api ?? process.env.HEADSTART_API ?? DEFAULT_API).replace(/\/?$/, '/'));
  const apiKey = values['api-key'] ?? process.env.HEADSTART_API_KEY;
  const auth = values.auth ?? (base.hostname.includes('.execute-api.') ? 'iam' : 'none');
  if (auth !== 'iam' && auth !== 'none') throw new UsageError(`--auth must be 'iam' (SigV4 with your AWS credentials) or 'none', got '${auth}'.`);
  let sign: ((request: { url: URL; method: string; headers: Record<string, string>; body?: Uint8Array }) => Promise<Record<string, string>>) | undefined;
  if (auth === 'iam') {
    // Loaded on demand, as `headstart console` does: only a deployed API needs them.
    const { createSigner } = await import('../../../local/console/sign.js');
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    sign = createSigner(base, { region: values.region ?? process.env.AWS_REGION, credentials: defaultProvider() });
  }
  return async (method, path, body) => {
    const url = new URL(path.replace(/^\//, ''), base);
    const bytes = body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body));
    let headers: Record<string, string> = { accept: 'application/json', ...(bytes ? { 'content-type': 'application/json' } : {}), ...(apiKey ? { 'x-api-key': apiKey } : {}) };
    if (sign) headers = await sign({ url, method, headers, body: bytes });
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: bytes });
    } catch (error) {
      throw new UsageError(`could not reach the API at ${base.origin} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}): start it with \`npm start\`, or pass --api <ApiUrl>`);
    }
    const text = await response.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's error page): shown as text.
    }
    return { status: response.status, json };
  };
}

function apiError(status: number, json: unknown): UsageError {
  const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new UsageError(error ? `${error.code}: ${error.message}` : `the API answered ${status}: ${typeof json === 'string' ? json.slice(0, 200) : JSON.stringify(json)}`);
}

function progressLine(job: PredictJobRecord): string {
  const images = job.progress.images;
  if (!images) return `${job.status}`;
  return `${job.status}, ${images.phase}: ${images.predicted + images.failed}/${images.total} images (${images.cached} cached, ${images.extracted} extracted, ${images.failed} failed)`;
}

function printDone(job: PredictJobRecord, io: CliIo): void {
  if (job.status === 'failed') {
    io.out(`job ${job.jobId} failed: ${job.error?.code}: ${job.error?.message}`);
    return;
  }
  const images = job.progress.images!;
  io.out(`job ${job.jobId} succeeded: ${images.predicted} of ${images.total} images predicted, ${images.failed} failed (${job.imagesPerSecond ?? '?'} images/s)`);
  io.out(`  ${images.cached} from cached features, ${images.extracted} extracted (and cached) first`);
  if (job.results) io.out(`  results: ${job.results.jsonl} and ${job.results.csv}`);
  for (const failure of job.failures?.slice(0, 5) ?? []) io.out(`  failed: ${failure.key}: ${failure.code}: ${failure.message}`);
  if (job.webhook) io.out(`  webhook: ${job.webhook.delivered ? 'delivered' : 'NOT delivered'} after ${job.webhook.attempts} attempt(s), last status ${job.webhook.lastStatus ?? job.webhook.lastError}`);
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'classify every image under a dataset or prefix with a head or a model, as a job of the API (results in predictions/<jobId>/)',
  usage:
    'headstart predict --dataset <name> | --prefix <images/…> --head <headId> | --model <id> [--top 5] [--webhook <url>] [--wait] ' +
    `[--api <url> (default $HEADSTART_API, else ${DEFAULT_API})] [--api-key <key>] [--auth iam|none] [--region <region>] [--json]`,
  async run(args, io) {
    const { values } = parse(args, OPTIONS);
    const request = predictRequestOf(values);
    const send = await apiClient(values);
    const started = await send('POST', '/predict', request);
    if (started.status !== 202) throw apiError(started.status, started.json);
    const { jobId } = started.json as { jobId: string };
    if (!values.wait) {
      io.out(values.json ? JSON.stringify(started.json, null, 2) : `job ${jobId} queued: headstart predict … --wait waits for it, GET /jobs/${jobId} shows it`);
      return 0;
    }
    if (!values.json) io.err(`job ${jobId} queued`);
    let last = '';
    for (;;) {
      const polled = await send('GET', `/jobs/${jobId}`);
      if (polled.status !== 200) throw apiError(polled.status, polled.json);
      const job = polled.json as PredictJobRecord;
      const line = progressLine(job);
      if (!values.json && line !== last) io.err(line);
      last = line;
      // The webhook is delivered after the outcome is recorded: wait for its result too (its tries take seconds).
      const webhookPending = job.request.webhook !== undefined && job.webhook === undefined && Date.now() - Date.parse(job.finishedAt ?? '') < WEBHOOK_WAIT_MS;
      if ((job.status === 'succeeded' || job.status === 'failed') && !webhookPending) {
        if (values.json) io.out(JSON.stringify(job, null, 2));
        else printDone(job, io);
        return job.status === 'succeeded' ? 0 : 1;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  },
};
