import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey, setApiKey } from './api.js';
import { ClassifyPage } from './pages/classify.js';
import { DatasetPage, DatasetsPage } from './pages/datasets.js';
import { ModelPage, ModelsPage } from './pages/models.js';
import { IssuesPage, ReviewsPage } from './pages/quality.js';
import { JobPage } from './pages/train.js';
import { PredictPage } from './pages/predict.js';
import { Link, usePath } from './router.js';
import './style.css';

/** The API key, kept for this tab only (sessionStorage); asked for when the API answers 403. */
function KeyBar() {
  const [key, setKey] = useState(apiKey());
  const [forbidden, setForbidden] = useState(false);
  useEffect(() => {
    const onForbidden = () => setForbidden(true);
    window.addEventListener('headstart:forbidden', onForbidden);
    return () => window.removeEventListener('headstart:forbidden', onForbidden);
  }, []);
  if (!forbidden && !apiKey()) return null;
  return (
    <form
      class="keybar"
      onSubmit={(e) => {
        e.preventDefault();
        setApiKey(key.trim());
        setForbidden(false);
        location.reload();
      }}
    >
      <label>
        API key
        <input type="password" autocomplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <button type="submit">{apiKey() ? 'Change key' : 'Use key'}</button>
      {forbidden && <span class="error">The API answered 403: it needs its key (x-api-key).</span>}
    </form>
  );
}

function Page(props: { path: string }) {
  const parts = props.path.split('/').filter(Boolean).map(decodeURIComponent);
  const [section, id, view] = parts;
  if (section === 'datasets' && id && view === 'issues') return <IssuesPage name={id} />;
  if (section === 'datasets' && id && view === 'reviews') return <ReviewsPage name={id} />;
  if (section === 'datasets' && id) return <DatasetPage name={id} />;
  if (section === 'models' && id) return <ModelPage id={id} />;
  if (section === 'jobs' && id) return <JobPage id={id} />;
  if (section === 'models') return <ModelsPage />;
  if (section === 'classify') return <ClassifyPage />;
  if (section === 'predict') return <PredictPage />;
  if (section === undefined || section === 'datasets') return <DatasetsPage />;
  return (
    <main>
      <h1>Not found</h1>
      <p>
        No console page at <code>{props.path}</code>. <Link to="/datasets">Datasets</Link>
      </p>
    </main>
  );
}

function App() {
  const path = usePath();
  const section = path.split('/')[1] || 'datasets';
  const nav = [
    ['datasets', 'Datasets'],
    ['models', 'Models'],
    ['classify', 'Classify'],
    ['predict', 'Predict'],
  ] as const;
  useEffect(() => {
    document.title = `headstart · ${path === '/' ? 'datasets' : path.slice(1)}`;
  }, [path]);
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header>
        <span class="brand">headstart</span>
        <nav aria-label="Sections">
          {nav.map(([to, label]) => (
            <Link key={to} to={`/${to}`} aria-current={section === to || (to === 'datasets' && section === 'jobs') ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <KeyBar />
      </header>
      <div id="content" tabIndex={-1}>
        <Page path={path} />
      </div>
    </>
  );
}

render(<App />, document.getElementById('app')!);
