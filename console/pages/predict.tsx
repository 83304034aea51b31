import { useEffect, useState } from 'preact/hooks';
import { get, post, resultsFileUrl, type Defaults, type Job, type ModelSummary, type PredictRequest, type PredictionRow, type ResultsPage } from '../api.js';
import { duration, ErrorNote, modelTargets, percent, Thumb, type ModelTarget } from '../components.js';
import { Link, navigate, usePoll } from '../router.js';

/** What POST /predict names: a head (`head`), or a fine-tuned model or the ImageNet classifier (`model`). */
function targetField(value: string): Pick<PredictRequest, 'head' | 'model'> {
  const id = value.slice(value.indexOf(':') + 1);
  return value.startsWith('head:') ? { head: id } : { model: id };
}

/**
 * POST /predict from a form: every image of a dataset (or under a prefix of images/) classified by a head (cached
 * features skip the base), a fine-tuned model or the ImageNet classifier; then the job page. `?dataset=` and
 * `?head=` / `?model=` pre-fill it (links from a dataset's and a model's page).
 */
export function PredictPage() {
  const params = new URLSearchParams(location.search);
  const [datasets, setDatasets] = useState<string[]>([]);
  const [targets, setTargets] = useState<ModelTarget[]>([]);
  const [source, setSource] = useState<'dataset' | 'prefix'>(params.get('prefix') ? 'prefix' : 'dataset');
  const [dataset, setDataset] = useState(params.get('dataset') ?? '');
  const [prefix, setPrefix] = useState(params.get('prefix') ?? 'images/');
  const [target, setTarget] = useState(params.get('head') ? `head:${params.get('head')}` : params.get('model') ? `model:${params.get('model')}` : '');
  const [top, setTop] = useState('5');
  const [webhook, setWebhook] = useState('');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Promise.all([get<{ datasets: Array<{ name: string }> }>('/datasets'), get<{ models: ModelSummary[]; finetuned: ModelSummary[] }>('/models'), get<Defaults>('/train/defaults')]).then(([ds, models, defaults]) => {
      const names = ds.datasets.map((d) => d.name);
      setDatasets(names);
      setDataset((d) => d || names[0] || '');
      const list = modelTargets(models, defaults);
      setTargets(list);
      setTarget((t) => (list.some((x) => x.value === t) ? t : list[0]!.value));
    }, setError);
  }, []);

  async function start(event: Event) {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const body: PredictRequest = {
        ...(source === 'dataset' ? { dataset } : { prefix: prefix.trim() }),
        ...targetField(target),
        top: Number(top),
        ...(webhook.trim() ? { webhook: webhook.trim() } : {}),
      };
      const { jobId } = await post<{ jobId: string }>('/predict', body);
      navigate(`/jobs/${encodeURIComponent(jobId)}`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <h1>Batch prediction</h1>
      <p class="note">Classifies every image of a dataset, or under a prefix, in a job (POST /predict). With a head, images whose features are cached skip the base network; the rest are extracted (and cached) first.</p>
      <form class="predict" onSubmit={start}>
        <fieldset>
          <legend>Which images</legend>
          <label>
            <input type="radio" name="source" value="dataset" checked={source === 'dataset'} onChange={() => setSource('dataset')} /> a dataset
          </label>
          <label>
            <input type="radio" name="source" value="prefix" checked={source === 'prefix'} onChange={() => setSource('prefix')} /> a prefix of images/
          </label>
        </fieldset>
        <div class="row">
          {source === 'dataset' ? (
            <label>
              Dataset
              <select name="dataset" value={dataset} onChange={(e) => setDataset(e.currentTarget.value)}>
                {datasets.map((d) => (
                  <option key={d} value={d}>
                    {d}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label>
              Prefix
              <input type="text" value={prefix} placeholder="images/shop/_unlabelled/" onInput={(e) => setPrefix(e.currentTarget.value)} />
            </label>
          )}
          <label>
            Model
            <select name="target" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
              {targets.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Top
            <input type="number" min="1" max="100" step="1" value={top} onInput={(e) => setTop(e.currentTarget.value)} />
          </label>
          <label>
            Webhook (optional)
            <input type="url" value={webhook} placeholder="https://example.com/done" onInput={(e) => setWebhook(e.currentTarget.value)} />
          </label>
        </div>
        <button type="submit" class="primary" disabled={busy || !targets.length}>
          {busy ? 'Starting…' : 'Start prediction'}
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}

const PAGE = 50;
const PHASES: Record<string, string> = { listing: 'listing the images', extracting: 'extracting what is not cached', predicting: 'predicting', writing: 'writing the results' };

/** A prediction job's facts on its job page (inside its <dl>): what it classifies, with what, and its images' progress. */
export function PredictionFacts(props: { job: Job; done: boolean }) {
  const { job } = props;
  const images = job.progress.images;
  const model = job.request.head ?? job.request.model;
  const finished = images ? images.predicted + images.failed : 0;
  return (
    <>
      <dt>images</dt>
      <dd>{job.request.dataset !== undefined ? <Link to={`/datasets/${encodeURIComponent(job.request.dataset)}`}>{job.request.dataset}</Link> : <code>{job.request.prefix}</code>}</dd>
      <dt>{job.request.head !== undefined ? 'head' : 'model'}</dt>
      <dd>{model && <Link to={`/models/${encodeURIComponent(model)}`}>{model}</Link>}</dd>
      <dt>phase</dt>
      <dd>{props.done ? 'done' : images ? PHASES[images.phase] : '–'}</dd>
      <dt>progress</dt>
      <dd class="progress-images">
        {images ? `${finished} of ${images.total} images: ${images.predicted} predicted, ${images.failed} failed (${images.cached} cached, ${images.extracted} extracted)` : '–'}
        {images && images.total > 0 && <progress max={images.total} value={finished} aria-label="Images done" />}
      </dd>
      <dt>ETA</dt>
      <dd>{props.done ? (job.imagesPerSecond !== undefined ? `done, ${job.imagesPerSecond} images/s` : 'done') : duration(job.progress.etaMs)}</dd>
      {job.webhook && (
        <>
          <dt>webhook</dt>
          <dd class={job.webhook.delivered ? 'webhook' : 'webhook bad'}>
            {job.webhook.delivered ? 'delivered' : 'not delivered'} to <code>{job.webhook.url}</code> after {job.webhook.attempts} attempt{job.webhook.attempts === 1 ? '' : 's'}
            {job.webhook.lastError ? ` (${job.webhook.lastError})` : ''}
            {job.webhook.afterRestart ? ' — sent again after a server restart (the first delivery was cut short)' : ''}
          </dd>
        </>
      )}
    </>
  );
}

/** A finished prediction job's results: the files, and the table page by page. */
export function PredictionResults(props: { job: Job }) {
  return props.job.results ? <Results job={props.job} /> : null;
}

/** The job's two results files, as links: presigned GETs fetched again when they are about to expire. */
function Downloads(props: { jobId: string }) {
  const [urls, setUrls] = useState<Partial<Record<'csv' | 'jsonl', { url: string; expiresAt?: string }>>>({});
  const [error, setError] = useState<Error>();
  const load = (format: 'csv' | 'jsonl') => resultsFileUrl(props.jobId, format).then((u) => (setUrls((all) => ({ ...all, [format]: u })), u));
  useEffect(() => {
    Promise.all([load('csv'), load('jsonl')]).catch(setError);
  }, [props.jobId]);
  const stale = (u: { expiresAt?: string }) => u.expiresAt !== undefined && Date.parse(u.expiresAt) - Date.now() < 30_000;
  return (
    <p class="row links downloads">
      {(['csv', 'jsonl'] as const).map((format) => {
        const u = urls[format];
        return u ? (
          <a
            key={format}
            class="button"
            href={u.url}
            download={`${props.jobId}-results.${format}`}
            onClick={(event) => {
              if (!stale(u)) return;
              event.preventDefault();
              load(format).then((fresh) => location.assign(fresh.url), setError);
            }}
          >
            Download results.{format}
          </a>
        ) : null;
      })}
      <ErrorNote error={error} />
    </p>
  );
}

function TopK(props: { top: Array<{ label: string; probability: number }> }) {
  return (
    <ol class="topk">
      {props.top.map((t) => (
        <li key={t.label}>
          {t.label} <span class="note">{percent(t.probability)}</span>
        </li>
      ))}
    </ol>
  );
}

/** GET /jobs/{id}/results a page at a time: thumbnail, label, probability, top-k, or the error of an image that failed. */
function Results(props: { job: Job }) {
  const { jobId } = props.job;
  const [offset, setOffset] = useState(0);
  const [only, setOnly] = useState<'' | 'failed' | 'predicted'>('');
  const query = `offset=${offset}&limit=${PAGE}${only ? `&only=${only}` : ''}`;
  const { value: page, error } = usePoll(() => get<ResultsPage>(`/jobs/${encodeURIComponent(jobId)}/results?${query}`), 0, [jobId, query], () => false);
  const images = props.job.progress.images;
  const shown = only === 'failed' ? images?.failed : only === 'predicted' ? images?.predicted : images ? images.predicted + images.failed : undefined;
  return (
    <section aria-label="Results" class="results">
      <h2>Results</h2>
      <Downloads jobId={jobId} />
      <div class="row">
        <label>
          Show
          <select
            value={only}
            onChange={(e) => {
              setOnly(e.currentTarget.value as typeof only);
              setOffset(0);
            }}
          >
            <option value="">every image</option>
            <option value="failed">failed images ({images?.failed ?? 0})</option>
            <option value="predicted">predicted images ({images?.predicted ?? 0})</option>
          </select>
        </label>
      </div>
      <ErrorNote error={error} />
      {page && (
        <>
          <p class="summary" role="status">
            {page.rows.length ? `Images ${page.offset + 1}–${page.offset + page.rows.length}${shown !== undefined ? ` of ${shown}` : ''}` : 'No images here.'}
          </p>
          <table class="predictions">
            <thead>
              <tr>
                <th scope="col">image</th>
                <th scope="col">label</th>
                <th scope="col">probability</th>
                <th scope="col">top-k</th>
                <th scope="col">features</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((row: PredictionRow) => (
                <tr key={row.key} class={'error' in row ? 'failed' : ''}>
                  <td>
                    <Thumb imageKey={row.key} caption={row.key.slice(row.key.indexOf('/', 'images/'.length) + 1)} size={96} />
                  </td>
                  {'error' in row ? (
                    <td colSpan={4} class="bad">
                      {row.error.code}: {row.error.message}
                    </td>
                  ) : (
                    <>
                      <td class="label">{row.label}</td>
                      <td class="probability">{percent(row.probability)}</td>
                      <td>
                        <TopK top={row.top} />
                      </td>
                      <td>{row.source}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <p class="row pager">
            <button type="button" disabled={page.offset === 0} onClick={() => setOffset(Math.max(0, page.offset - PAGE))}>
              Previous page
            </button>
            <button type="button" disabled={page.nextOffset === null} onClick={() => page.nextOffset !== null && setOffset(page.nextOffset)}>
              Next page
            </button>
          </p>
        </>
      )}
    </section>
  );
}
