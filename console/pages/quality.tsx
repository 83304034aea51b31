import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { del, get, post, type DatasetIssues, type DatasetStatus, type Review } from '../api.js';
import { ErrorNote, fixed, percent, Thumb } from '../components.js';
import { Link } from '../router.js';

/** How often the issues page asks again while a dataset issues job computes the answer. */
const ISSUES_POLL_MS = 3000;

/** The rows a list shows before "Show all". */
const FIRST = 24;

/** GET /datasets/{name}/issues: duplicates, leakage (against another dataset), label issues, outliers. */
export function IssuesPage(props: { name: string }) {
  const [against, setAgainst] = useState('');
  const [issues, setIssues] = useState<DatasetIssues>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [job, setJob] = useState<string>();
  const [datasets, setDatasets] = useState<string[]>([]);
  useEffect(() => {
    get<{ datasets: Array<{ name: string }> }>('/datasets').then(
      (v) => setDatasets(v.datasets.map((d) => d.name).filter((n) => n !== props.name)),
      () => setDatasets([]),
    );
  }, [props.name]);
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(undefined);
    const query = against ? `?against=${encodeURIComponent(against)}` : '';
    setJob(undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Above the synchronous limit the route answers 202 with an 'issues' job (the same one while it runs): ask again until it serves the answer.
    const ask = () =>
      get<DatasetIssues | { jobId: string }>(`/datasets/${encodeURIComponent(props.name)}/issues${query}`).then(
        (v) => {
          if (!live) return;
          if ('jobId' in v) {
            setJob(v.jobId);
            timer = setTimeout(ask, ISSUES_POLL_MS);
            return;
          }
          setJob(undefined);
          setIssues(v);
          setLoading(false);
        },
        (e: Error) => live && (setError(e), setIssues(undefined), setLoading(false)),
      );
    void ask();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [props.name, against]);
  return (
    <main class="issues">
      <h1>
        Issues in <Link to={`/datasets/${encodeURIComponent(props.name)}`}>{props.name}</Link>
      </h1>
      <p class="row">
        <label>
          Check leakage against
          <select value={against} onChange={(e) => setAgainst(e.currentTarget.value)}>
            <option value="">no other dataset</option>
            {datasets.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <Link to={`/datasets/${encodeURIComponent(props.name)}/reviews`}>Review queue</Link>
      </p>
      {loading && (
        <p role="status" class="note">
          Looking for issues in {props.name}…{job && ` (too large to answer at once: computing as job ${job})`}
        </p>
      )}
      <ErrorNote error={error} />
      {issues && !loading && (
        <>
          <p class="summary" role="status">
            {issues.images} images: {issues.duplicates.length} duplicate group(s), {issues.leakage.length} leak(s), {issues.labelIssues.length} label issue(s), {issues.outliers.length}{' '}
            outlier(s).
          </p>
          {issues.notes.map((n) => (
            <p key={n} class="note">
              {n}
            </p>
          ))}
          <IssueList title="Duplicates" rows={issues.duplicates} empty={`No two images alike (cosine ≥ ${issues.method.nearDuplicateCosine}).`}>
            {(d) => (
              <>
                {d.keys.map((key) => (
                  <Thumb key={key} imageKey={key} />
                ))}
                <p>
                  {d.kind === 'identical' ? 'identical bytes' : 'near-identical'}, cosine {fixed(d.score)}
                </p>
              </>
            )}
          </IssueList>
          {issues.against && (
            <IssueList title={`Leakage into ${issues.against}`} rows={issues.leakage} empty={`No image of ${props.name} is also in ${issues.against}.`}>
              {(l) => (
                <>
                  <Thumb imageKey={l.key} />
                  <Thumb imageKey={l.otherKey} />
                  <p>
                    {l.kind === 'identical' ? 'identical bytes' : 'near-identical'}, cosine {fixed(l.score)}
                  </p>
                </>
              )}
            </IssueList>
          )}
          <IssueList title="Likely label errors" rows={issues.labelIssues} empty="No image looks mislabelled." note={`Out-of-fold probabilities from ${issues.method.labelIssuesSource}.`}>
            {(i) => (
              <>
                <Thumb imageKey={i.key} />
                <p>
                  labelled <b>{i.givenLabel}</b>, looks like <b>{i.suggestedLabel}</b> ({percent(i.score)})
                </p>
              </>
            )}
          </IssueList>
          <IssueList title="Outliers" rows={issues.outliers} empty="No image stands apart from the rest.">
            {(o) => (
              <>
                <Thumb imageKey={o.key} />
                <p>
                  {o.label}, score {fixed(o.score)}
                </p>
              </>
            )}
          </IssueList>
        </>
      )}
    </main>
  );
}

function IssueList<T>(props: { title: string; rows: T[]; empty: string; note?: string; children: (row: T) => ComponentChildren }) {
  const [all, setAll] = useState(false);
  const shown = all ? props.rows : props.rows.slice(0, FIRST);
  return (
    <section aria-label={props.title}>
      <h2>
        {props.title} ({props.rows.length})
      </h2>
      {props.note && <p class="note">{props.note}</p>}
      {props.rows.length === 0 ? (
        <p class="note">{props.empty}</p>
      ) : (
        <ol class="issue-list">
          {shown.map((row, i) => (
            <li key={i}>{props.children(row)}</li>
          ))}
        </ol>
      )}
      {!all && props.rows.length > FIRST && (
        <button type="button" onClick={() => setAll(true)}>
          Show all {props.rows.length}
        </button>
      )}
    </section>
  );
}

/** GET /reviews?dataset=: the images a prediction kept for a person; label (POST) or discard (DELETE) each. */
export function ReviewsPage(props: { name: string }) {
  const [reviews, setReviews] = useState<Review[]>();
  const [labels, setLabels] = useState<string[]>([]);
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let live = true;
    get<{ reviews: Review[] }>(`/reviews?dataset=${encodeURIComponent(props.name)}`).then(
      (v) => live && setReviews(v.reviews),
      (e: Error) => live && setError(e),
    );
    get<DatasetStatus>(`/datasets/${encodeURIComponent(props.name)}`).then(
      (v) => live && setLabels(Object.keys(v.labels)),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [props.name]);
  const done = (id: string) => setReviews((rs) => rs?.filter((r) => r.id !== id));
  return (
    <main>
      <h1>
        Review queue of <Link to={`/datasets/${encodeURIComponent(props.name)}`}>{props.name}</Link>
      </h1>
      <ErrorNote error={error} />
      {!reviews && !error && (
        <p role="status" class="note">
          Loading the queue…
        </p>
      )}
      {reviews && (
        <p class="summary" role="status">
          {reviews.length ? `${reviews.length} image(s) waiting for a label.` : 'Nothing waiting: POST /classify with review=true or minConfidence keeps images here.'}
        </p>
      )}
      <ul class="reviews">
        {(reviews ?? []).map((r) => (
          <ReviewRow key={r.id} review={r} labels={labels} onDone={() => done(r.id)} />
        ))}
      </ul>
    </main>
  );
}

function ReviewRow(props: { review: Review; labels: string[]; onDone: () => void }) {
  const { review } = props;
  const top = review.predictions[0];
  const choices = [...new Set([...props.labels, ...(top && props.labels.length === 0 ? [top.label] : [])])];
  const [label, setLabel] = useState(top && choices.includes(top.label) ? top.label : (choices[0] ?? ''));
  useEffect(() => {
    if (!label && choices.length) setLabel(top && choices.includes(top.label) ? top.label : choices[0]!);
  }, [choices.join('\n')]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const act = async (step: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await step();
      props.onDone();
    } catch (e) {
      setError(e as Error);
      setBusy(false);
    }
  };
  const path = `/reviews/${encodeURIComponent(review.id)}`;
  return (
    <li class="review" aria-label={`Review ${review.id}`}>
      <div>
        <p>
          {top ? (
            <>
              predicted <b class="predicted">{top.label}</b> ({percent(top.score)})
            </>
          ) : (
            'no prediction'
          )}{' '}
          by <code>{review.head ? `head ${review.head}` : review.model}</code>, {review.reason === 'lowConfidence' ? 'below the confidence threshold' : 'review requested'}, {new Date(review.createdAt).toLocaleString()}
        </p>
        <div class="row">
          <label>
            Label
            <select value={label} disabled={busy} onChange={(e) => setLabel(e.currentTarget.value)}>
              {choices.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="primary" disabled={busy || !label} onClick={() => void act(() => post(path, { label }))}>
            Accept
          </button>
          <button type="button" disabled={busy} onClick={() => void act(() => del(path))}>
            Discard
          </button>
        </div>
        <ErrorNote error={error} />
      </div>
    </li>
  );
}
