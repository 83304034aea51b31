import { useEffect, useState } from 'preact/hooks';
import { get, post, type Defaults, type Job, type ModelSummary } from '../api.js';
import { duration, ErrorNote, fixed, HistoryCharts, percent } from '../components.js';
import { Link, navigate, usePoll } from '../router.js';
import { PredictionFacts, PredictionResults } from './predict.js';

type Mode = 'head' | 'finetune';

function NumberField(props: { label: string; value: string; onInput: (value: string) => void; step?: string; min?: string; max?: string }) {
  return (
    <label>
      {props.label}
      <input type="number" value={props.value} step={props.step ?? 'any'} min={props.min} max={props.max} onInput={(e) => props.onInput(e.currentTarget.value)} />
    </label>
  );
}

/** POST /train, pre-filled with GET /train/defaults: a head on cached features, or fine-tuning the base with a head. */
export function TrainForm(props: { dataset: string; heads: ModelSummary[] }) {
  const [defaults, setDefaults] = useState<Defaults>();
  const [mode, setMode] = useState<Mode>('head');
  /** A head as POST /train chooses it when 'head' is left out, or one with the settings below. */
  const [custom, setCustom] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get<Defaults>('/train/defaults').then((d) => {
      setDefaults(d);
      // Under what the person already typed: the defaults may arrive after the first keystrokes.
      setFields((typed) => ({
        hidden: d.head.hidden.join(','),
        dropout: String(d.head.dropout),
        headLearningRate: String(d.head.learningRate),
        headEpochs: String(d.head.epochs),
        headBatchSize: String(d.head.batchSize),
        validationSplit: String(d.head.validationSplit),
        headPatience: String(d.head.patience),
        unfreeze: d.finetune.unfreeze[0] ?? '',
        ftEpochs: String(d.finetune.epochs),
        ftLearningRate: String(d.finetune.learningRate),
        ftBatchSize: String(d.finetune.batchSize),
        ftPatience: String(d.finetune.patience),
        augment: 'true',
        fromHead: '',
        ...typed,
      }));
    }, setError);
  }, []);
  const set = (name: string) => (value: string) => setFields((f) => ({ ...f, [name]: value }));
  const num = (name: string) => Number(fields[name]);

  async function start(event: Event) {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const hidden = fields.hidden!.trim() === '' ? [] : fields.hidden!.split(',').map((s) => Number(s.trim()));
      const body =
        mode === 'head'
          ? {
              dataset: props.dataset,
              head: { hidden, dropout: num('dropout'), learningRate: num('headLearningRate'), epochs: num('headEpochs'), batchSize: num('headBatchSize'), validationSplit: num('validationSplit'), patience: num('headPatience') },
            }
          : {
              mode: 'finetune',
              dataset: props.dataset,
              unfreeze: fields.unfreeze,
              epochs: num('ftEpochs'),
              learningRate: num('ftLearningRate'),
              batchSize: num('ftBatchSize'),
              patience: num('ftPatience'),
              augment: fields.augment === 'true',
              ...(fields.fromHead ? { fromHead: fields.fromHead } : {}),
            };
      if (mode === 'head' && !custom) delete (body as { head?: unknown }).head;
      const { jobId } = await post<{ jobId: string }>('/train', body);
      navigate(`/jobs/${encodeURIComponent(jobId)}`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  if (!defaults) return <ErrorNote error={error} />;
  return (
    <form class="train" onSubmit={start}>
      <fieldset>
        <legend>What to train (base {defaults.model})</legend>
        <label>
          <input type="radio" name="mode" value="head" checked={mode === 'head'} onChange={() => setMode('head')} /> a head on the cached features (seconds)
        </label>
        <label>
          <input type="radio" name="mode" value="finetune" checked={mode === 'finetune'} onChange={() => setMode('finetune')} /> fine-tune the top of the base with a head (minutes to hours)
        </label>
      </fieldset>
      {mode === 'head' && (
        <fieldset>
          <legend>Which head</legend>
          <label>
            <input type="radio" name="head-settings" value="default" checked={!custom} onChange={() => setCustom(false)} /> the API's choice (POST /train without 'head')
          </label>
          <label>
            <input type="radio" name="head-settings" value="custom" checked={custom} onChange={() => setCustom(true)} /> these settings
          </label>
        </fieldset>
      )}
      {mode === 'head' ? (
        <fieldset class="fields" disabled={!custom}>
          <legend>Head settings (pre-filled with the API's defaults)</legend>
          <label>
            Hidden layers (units, comma-separated)
            <input type="text" value={fields.hidden} onInput={(e) => set('hidden')(e.currentTarget.value)} />
          </label>
          <NumberField label="Dropout" value={fields.dropout!} onInput={set('dropout')} min="0" max="0.99" />
          <NumberField label="Learning rate" value={fields.headLearningRate!} onInput={set('headLearningRate')} />
          <NumberField label="Epochs" value={fields.headEpochs!} onInput={set('headEpochs')} step="1" min="1" />
          <NumberField label="Batch size" value={fields.headBatchSize!} onInput={set('headBatchSize')} step="1" min="1" />
          <NumberField label="Validation split" value={fields.validationSplit!} onInput={set('validationSplit')} min="0" max="0.9" />
          <NumberField label="Patience (epochs)" value={fields.headPatience!} onInput={set('headPatience')} step="1" min="0" />
        </fieldset>
      ) : (
        <fieldset class="fields">
          <legend>Fine-tuning settings (the API's defaults)</legend>
          <label>
            Unfreeze from block
            <select value={fields.unfreeze} onChange={(e) => set('unfreeze')(e.currentTarget.value)}>
              {defaults.finetune.unfreeze.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </label>
          <label>
            Start from head
            <select value={fields.fromHead} onChange={(e) => set('fromHead')(e.currentTarget.value)}>
              <option value="">a new head</option>
              {props.heads.map((h) => (
                <option key={h.headId} value={h.headId}>
                  {h.headId} ({percent(h.accuracy)})
                </option>
              ))}
            </select>
          </label>
          <NumberField label="Epochs" value={fields.ftEpochs!} onInput={set('ftEpochs')} step="1" min="1" />
          <NumberField label="Learning rate" value={fields.ftLearningRate!} onInput={set('ftLearningRate')} />
          <NumberField label="Batch size" value={fields.ftBatchSize!} onInput={set('ftBatchSize')} step="1" min="1" />
          <NumberField label="Patience (epochs)" value={fields.ftPatience!} onInput={set('ftPatience')} step="1" min="0" />
          <label>
            <input type="checkbox" checked={fields.augment === 'true'} onChange={(e) => set('augment')(String(e.currentTarget.checked))} /> Augment (flip, zoom, rotation)
          </label>
        </fieldset>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Starting…' : mode === 'head' ? 'Train head' : 'Start fine-tuning'}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

const KINDS: Record<Job['kind'], string> = { train: 'head', finetune: 'fine-tuning', predict: 'batch prediction', issues: 'dataset issues' };

const done = (job?: Job) => job?.status === 'succeeded' || job?.status === 'failed';

/**
 * GET /jobs/{id} every second while it runs: status, curves per epoch, ETA, stop; the model when it is done. A batch
 * prediction job shows its images' progress instead, then its results (PredictionJob).
 */
export function JobPage(props: { id: string }) {
  const { value: job, error, reload } = usePoll(() => get<Job>(`/jobs/${encodeURIComponent(props.id)}`), 1000, [props.id], (j) => !done(j));
  const [stopError, setStopError] = useState<Error>();
  const history = job?.history ?? [];
  const model = job?.headId ?? job?.modelId;
  async function stop() {
    setStopError(undefined);
    try {
      await post(`/jobs/${encodeURIComponent(props.id)}/stop`);
      reload();
    } catch (e) {
      setStopError(e as Error);
    }
  }
  return (
    <main>
      <h1>
        Job <code>{props.id}</code>
      </h1>
      <ErrorNote error={error} />
      {job && (
        <>
          <dl class="facts">
            <dt>kind</dt>
            <dd>{KINDS[job.kind]}</dd>
            {job.kind !== 'predict' && job.request.dataset !== undefined && (
              <>
                <dt>dataset</dt>
                <dd>
                  <Link to={`/datasets/${encodeURIComponent(job.request.dataset)}`}>{job.request.dataset}</Link>
                </dd>
              </>
            )}
            <dt>status</dt>
            <dd>
              <span role="status" aria-live="polite" class={`status ${job.status}`}>
                {job.status}
                {job.worker ? ` (worker ${job.worker.status})` : ''}
              </span>
            </dd>
            {job.kind === 'predict' ? (
              <PredictionFacts job={job} done={done(job)} />
            ) : (
              <>
                <dt>epoch</dt>
                <dd>
                  {job.progress.epoch} of {job.progress.epochs}
                  {job.progress.batches ? ` (batch ${job.progress.batch ?? 0} of ${job.progress.batches})` : ''}
                </dd>
                <dt>loss / accuracy</dt>
                <dd>
                  {fixed(job.progress.loss)} / {percent(job.progress.accuracy)}
                </dd>
                <dt>validation</dt>
                <dd>
                  {fixed(job.progress.valLoss)} / {percent(job.progress.valAccuracy)}
                </dd>
                <dt>ETA</dt>
                <dd>{done(job) ? 'done' : duration(job.progress.etaMs)}</dd>
              </>
            )}
          </dl>
          {!done(job) && (
            <button type="button" onClick={stop}>
              Stop
            </button>
          )}
          <ErrorNote error={stopError} />
          {job.error && (
            <p class="error" role="alert">
              {job.error.code}: {job.error.message}
            </p>
          )}
          {model && (
            <p>
              Model: <Link to={`/models/${encodeURIComponent(model)}`}>{model}</Link>
            </p>
          )}
          {job.kind === 'predict' ? <PredictionResults job={job} /> : <HistoryCharts history={history} />}
        </>
      )}
    </main>
  );
}
