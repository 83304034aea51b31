import { useState } from 'preact/hooks';
import { del, get, type EvaluationSample, type ModelDetails, type ModelSummary } from '../api.js';
import { ErrorNote, fixed, HistoryCharts, percent, Thumb } from '../components.js';
import { Link, navigate, usePoll } from '../router.js';

export function ModelsPage() {
  const { value, error } = usePoll(() => get<{ models: ModelSummary[]; finetuned: ModelSummary[] }>('/models'), 10_000, []);
  const rows = [...(value?.models ?? []).map((m) => ({ ...m, id: m.headId!, kind: 'head' })), ...(value?.finetuned ?? []).map((m) => ({ ...m, id: m.modelId!, kind: 'fine-tuned' }))];
  return (
    <main>
      <h1>Models</h1>
      <ErrorNote error={error} />
      {value && !rows.length && <p>No models yet: train one from a dataset's page.</p>}
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">model</th>
              <th scope="col">kind</th>
              <th scope="col">dataset</th>
              <th scope="col">labels</th>
              <th scope="col">accuracy</th>
              <th scope="col">created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id}>
                <th scope="row">
                  <Link to={`/models/${encodeURIComponent(m.id)}`}>{m.id}</Link>
                </th>
                <td>{m.kind}</td>
                <td>{m.dataset}</td>
                <td>{m.labels.length}</td>
                <td>{percent(m.accuracy)}</td>
                <td>{m.createdAt ? new Date(m.createdAt).toLocaleString() : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

/** Background of a confusion-matrix cell: the share of its row, diagonal in green, errors in red. */
function heat(count: number, rowTotal: number, diagonal: boolean): string {
  const share = rowTotal ? count / rowTotal : 0;
  const alpha = count === 0 ? 0 : 0.12 + 0.78 * share;
  return diagonal ? `rgba(22, 128, 74, ${alpha.toFixed(3)})` : `rgba(200, 40, 40, ${alpha.toFixed(3)})`;
}

export function ModelPage(props: { id: string }) {
  const { value: model, error } = usePoll(() => get<ModelDetails>(`/models/${encodeURIComponent(props.id)}`), 0, [props.id], () => false);
  const [cell, setCell] = useState<{ truth: string; predicted: string }>();
  const [deleteError, setDeleteError] = useState<Error>();
  if (!model) {
    return (
      <main>
        <h1>
          Model <code>{props.id}</code>
        </h1>
        <ErrorNote error={error} />
      </main>
    );
  }
  const m = model.metrics;
  const labels = m.labels ?? model.labels;
  const samples = m.evaluation?.samples;
  const history = m.history ?? [];
  async function remove() {
    if (!confirm(`Delete model ${props.id}? Classify requests naming it will get 404.`)) return;
    try {
      await del(`/models/${encodeURIComponent(props.id)}`);
      navigate('/models');
    } catch (e) {
      setDeleteError(e as Error);
    }
  }
  return (
    <main>
      <h1>
        Model <code>{props.id}</code>
      </h1>
      <dl class="facts">
        <dt>accuracy</dt>
        <dd class="big">{percent(m.accuracy)}</dd>
        <dt>dataset</dt>
        <dd>
          <Link to={`/datasets/${encodeURIComponent(model.dataset)}`}>{model.dataset}</Link>
        </dd>
        <dt>base</dt>
        <dd>{model.base?.namespace ?? '–'}</dd>
        <dt>evaluated on</dt>
        <dd>
          {m.evaluation?.source ?? m.evaluatedOn ?? '–'}
          {m.rows ? `, ${m.rows} images` : samples ? `, ${samples.length} images` : ''}
        </dd>
        <dt>loss</dt>
        <dd>{fixed(m.loss)}</dd>
      </dl>
      <div class="columns">
        <section aria-label="Per-class metrics">
          <h2>Per class</h2>
          <table class="perclass">
            <thead>
              <tr>
                <th scope="col">label</th>
                <th scope="col">precision</th>
                <th scope="col">recall</th>
                <th scope="col">F1</th>
                <th scope="col">support</th>
              </tr>
            </thead>
            <tbody>
              {labels.map((label) => {
                const c = m.perClass[label];
                return (
                  <tr key={label}>
                    <th scope="row">{label}</th>
                    <td>{fixed(c?.precision, 2)}</td>
                    <td>{fixed(c?.recall, 2)}</td>
                    <td>{fixed(c?.f1, 2)}</td>
                    <td>{c?.support ?? '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
        <section aria-label="Confusion matrix">
          <h2>Confusion matrix</h2>
          <table class="confusion">
            <caption>rows: true label, columns: predicted; select a cell to see its images</caption>
            <thead>
              <tr>
                <td />
                {labels.map((label) => (
                  <th key={label} scope="col">
                    <span>{label}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {m.confusionMatrix.map((row, r) => {
                const total = row.reduce((a, b) => a + b, 0);
                return (
                  <tr key={labels[r]}>
                    <th scope="row">{labels[r]}</th>
                    {row.map((count, c) => {
                      const selected = cell?.truth === labels[r] && cell?.predicted === labels[c];
                      return (
                        <td key={c} style={{ background: heat(count, total, r === c) }} class={selected ? 'selected' : ''}>
                          <button
                            type="button"
                            aria-pressed={selected}
                            aria-label={`true ${labels[r]}, predicted ${labels[c]}: ${count} image${count === 1 ? '' : 's'}`}
                            onClick={() => setCell(selected ? undefined : { truth: labels[r]!, predicted: labels[c]! })}
                          >
                            {count}
                          </button>
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      </div>
      {cell && <CellImages truth={cell.truth} predicted={cell.predicted} samples={samples} />}
      {history.length > 0 && <HistoryCharts history={history} />}
      <p>
        <Link to={`/classify?model=${encodeURIComponent(props.id)}`}>Classify an image with this model</Link>
        {' · '}
        <Link to={`/predict?dataset=${encodeURIComponent(model.dataset)}&${model.headId ? 'head' : 'model'}=${encodeURIComponent(props.id)}`}>Predict a whole dataset with it</Link>
      </p>
      <button type="button" class="danger" onClick={remove}>
        Delete model
      </button>
      <ErrorNote error={deleteError} />
    </main>
  );
}

function CellImages(props: { truth: string; predicted: string; samples?: EvaluationSample[] }) {
  const title = `True ${props.truth}, predicted ${props.predicted}`;
  if (!props.samples) {
    return (
      <section aria-label={title} class="cell-images">
        <h2>{title}</h2>
        <p class="note">This model's metrics keep no per-image results (metrics.evaluation.samples), so the images of a cell cannot be shown; a model trained by a version that records them can.</p>
      </section>
    );
  }
  const hits = props.samples.filter((s) => s.label === props.truth && s.predicted === props.predicted).sort((a, b) => b.probability - a.probability);
  return (
    <section aria-label={title} class="cell-images">
      <h2>
        {title}: {hits.length} image{hits.length === 1 ? '' : 's'}
      </h2>
      <div class="grid">
        {hits.map((s) => (
          <Thumb key={s.key} imageKey={s.key} caption={`${props.predicted} ${percent(s.probability)}`} />
        ))}
      </div>
    </section>
  );
}
