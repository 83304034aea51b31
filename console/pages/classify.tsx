import { useEffect, useState } from 'preact/hooks';
import { get, post, type Defaults, type ModelSummary, type Prediction } from '../api.js';
import { DropZone, ErrorNote, modelTargets, percent, type ModelTarget } from '../components.js';

/** Drop, paste or pick an image; top-k from a head, a fine-tuned model or the ImageNet classifier. */
export function ClassifyPage() {
  const initial = new URLSearchParams(location.search).get('model') ?? '';
  const [targets, setTargets] = useState<ModelTarget[]>([]);
  const [target, setTarget] = useState(initial ? `id:${initial}` : '');
  const [top, setTop] = useState('5');
  const [image, setImage] = useState<{ blob: Blob; url: string; name: string }>();
  const [predictions, setPredictions] = useState<Prediction[]>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Promise.all([get<{ models: ModelSummary[]; finetuned: ModelSummary[] }>('/models'), get<Defaults>('/train/defaults')]).then(([models, defaults]) => {
      const list = modelTargets(models, defaults);
      setTargets(list);
      setTarget((t) => {
        if (t.startsWith('id:')) return list.find((x) => x.value.endsWith(`:${t.slice(3)}`))?.value ?? list[0]!.value;
        return t || list[0]!.value;
      });
    }, setError);
  }, []);

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (file) take(file);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  });

  function take(file: File) {
    if (image) URL.revokeObjectURL(image.url);
    setImage({ blob: file, url: URL.createObjectURL(file), name: file.name || 'pasted image' });
    setPredictions(undefined);
  }

  useEffect(() => {
    if (!image || !target || target.startsWith('id:')) return;
    let live = true;
    setBusy(true);
    setError(undefined);
    const [kind, id] = [target.slice(0, target.indexOf(':')), target.slice(target.indexOf(':') + 1)];
    post<{ predictions: Prediction[] }>(`/classify?${kind}=${encodeURIComponent(id)}&top=${encodeURIComponent(top)}`, image.blob)
      .then((r) => live && setPredictions(r.predictions), (e: Error) => live && setError(e))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [image, target, top]);

  return (
    <main>
      <h1>Classify</h1>
      <div class="row">
        <label>
          Model
          <select value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            {targets.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Top
          <input type="number" min="1" max="20" step="1" value={top} onInput={(e) => setTop(e.currentTarget.value)} />
        </label>
      </div>
      <DropZone label="Image to classify" onFiles={(t) => t.files[0] && take(t.files[0])}>
        <p>Drop an image here, paste one (Ctrl+V), or pick it:</p>
        <label class="button">
          Choose an image…
          <input class="visually-hidden" type="file" accept="image/*" onChange={(e) => e.currentTarget.files?.[0] && take(e.currentTarget.files[0])} />
        </label>
      </DropZone>
      <ErrorNote error={error} />
      {image && (
        <div class="result">
          <img src={image.url} alt={image.name} class="preview" />
          <section aria-label="Predictions" aria-busy={busy}>
            <h2>{busy ? 'Classifying…' : 'Predictions'}</h2>
            {predictions && (
              <ol class="bars">
                {predictions.map((p) => (
                  <li key={p.label}>
                    <span class="bar-label">{p.label}</span>
                    <span class="bar" role="img" aria-label={`${p.label} ${percent(p.score)}`}>
                      <span style={{ width: `${(p.score * 100).toFixed(1)}%` }} />
                    </span>
                    <span class="bar-value">{percent(p.score)}</span>
                  </li>
                ))}
              </ol>
            )}
          </section>
        </div>
      )}
    </main>
  );
}
