import { useState } from 'preact/hooks';
import { get, type DatasetStatus, type ModelSummary } from '../api.js';
import { ErrorNote } from '../components.js';
import { Link, navigate, usePoll } from '../router.js';
import { TrainForm } from './train.js';
import { Thumb } from '../components.js';
import { Uploader } from './upload.js';

export function DatasetsPage() {
  const { value, error } = usePoll(() => get<{ datasets: Array<{ name: string }> }>('/datasets'), 5000, []);
  const [name, setName] = useState('');
  return (
    <main>
      <h1>Datasets</h1>
      <ErrorNote error={error} />
      {value && (value.datasets.length ? (
        <ul class="cards">
          {value.datasets.map((d) => (
            <li key={d.name}>
              <Link to={`/datasets/${encodeURIComponent(d.name)}`}>{d.name}</Link>
            </li>
          ))}
        </ul>
      ) : (
        <p>No datasets yet: upload a folder of class folders below.</p>
      ))}
      <h2>New dataset</h2>
      <label>
        Dataset name
        <input type="text" value={name} placeholder="e.g. flowers" pattern="[A-Za-z0-9][A-Za-z0-9._-]*" onInput={(e) => setName(e.currentTarget.value.trim())} />
      </label>
      <Uploader
        dataset={() => {
          if (!name) throw new Error('Name the dataset first.');
          return name;
        }}
        onDone={(dataset) => navigate(`/datasets/${encodeURIComponent(dataset)}`)}
      />
    </main>
  );
}

export function DatasetPage(props: { name: string }) {
  const { value: dataset, error, reload } = usePoll(() => get<DatasetStatus>(`/datasets/${encodeURIComponent(props.name)}`), 1500, [props.name]);
  const { value: models } = usePoll(() => get<{ models: ModelSummary[] }>('/models'), 10_000, []);
  const [open, setOpen] = useState<string>();
  const totals = dataset?.totals;
  const labels = dataset ? Object.keys(dataset.labels) : [];
  return (
    <main>
      <h1>
        Dataset <q>{props.name}</q>
      </h1>
      <ErrorNote error={error} />
      <p class="row links">
        <Link to={`/datasets/${encodeURIComponent(props.name)}/issues`}>Issues</Link>
        <Link to={`/datasets/${encodeURIComponent(props.name)}/reviews`}>Review queue</Link>
        <Link to={`/predict?dataset=${encodeURIComponent(props.name)}`}>Predict every image</Link>
      </p>
      {dataset && totals && (
        <>
          <p role="status" aria-live="polite" class="summary">
            {totals.images} images: {totals.extracted} extracted, {totals.failed} failed, {totals.pending} pending
            {totals.pending === 0 ? ' — extraction finished.' : '…'}
          </p>
          <table class="counts">
            <caption>Per label, under {dataset.namespace}</caption>
            <thead>
              <tr>
                <th scope="col">label</th>
                <th scope="col">images</th>
                <th scope="col">extracted</th>
                <th scope="col">failed</th>
                <th scope="col">pending</th>
                <th scope="col">
                  <span class="visually-hidden">images</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {labels.map((label) => {
                const c = dataset.labels[label]!;
                return (
                  <tr key={label}>
                    <th scope="row">{label}</th>
                    <td>{c.images}</td>
                    <td>{c.extracted}</td>
                    <td class={c.failed ? 'bad' : ''}>{c.failed}</td>
                    <td>{c.pending}</td>
                    <td>
                      <button type="button" aria-expanded={open === label} onClick={() => setOpen(open === label ? undefined : label)}>
                        {open === label ? 'Hide' : 'Show'} images of {label}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">total</th>
                <td>{totals.images}</td>
                <td>{totals.extracted}</td>
                <td>{totals.failed}</td>
                <td>{totals.pending}</td>
                <td />
              </tr>
            </tfoot>
          </table>
          {open && <LabelImages dataset={props.name} label={open} />}
          {dataset.failures.length > 0 && (
            <>
              <h2>Failed images</h2>
              <ul class="failures">
                {dataset.failures.map((f) => (
                  <li key={f.key}>
                    <code>{f.key}</code>: {f.code} — {f.reason}
                  </li>
                ))}
              </ul>
              {dataset.failuresTruncated && <p>…and more; the first 50 are listed.</p>}
            </>
          )}
        </>
      )}
      <h2>Add images</h2>
      <Uploader dataset={() => props.name} labels={labels} onDone={() => reload()} />
      <h2>Train</h2>
      {dataset && !dataset.training.ready && <p class="note">Not ready to train yet: {dataset.training.error?.message}</p>}
      <TrainForm dataset={props.name} heads={(models?.models ?? []).filter((m) => m.dataset === props.name)} />
    </main>
  );
}

function LabelImages(props: { dataset: string; label: string }) {
  const { value, error } = usePoll(
    () => get<DatasetStatus>(`/datasets/${encodeURIComponent(props.dataset)}?label=${encodeURIComponent(props.label)}`),
    3000,
    [props.dataset, props.label],
    (v) => !!v && v.totals.pending > 0,
  );
  return (
    <section aria-label={`Images of ${props.label}`}>
      <h2>Images of {props.label}</h2>
      <ErrorNote error={error} />
      <div class="grid">
        {(value?.images ?? []).map((image) => (
          <Thumb key={image.key} imageKey={image.key} caption={<span class={image.status}>{image.status === 'failed' ? `failed: ${image.code}` : image.status}</span>} />
        ))}
      </div>
      {value?.imagesTruncated && <p>The first 500 are shown.</p>}
    </section>
  );
}
