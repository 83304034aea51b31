import { useState } from 'preact/hooks';
import { forgetThumbnails, uploadImage } from '../api.js';
import { DropZone, droppedFiles, ErrorNote } from '../components.js';

/** Files in class folders (`<label>/<file>`, or `<root>/<label>/<file>`) take the folder's label; loose files `label`. */
export function planUploads(files: Array<{ file: File; path: string }>, label: string): Array<{ file: File; label: string }> {
  return files
    .filter(({ file, path }) => !file.name.startsWith('.') && !path.split('/').some((s) => s.startsWith('.')))
    .map(({ file, path }) => {
      const segments = path.split('/');
      const folder = segments.length >= 2 ? segments[segments.length - 2]! : label.trim();
      if (!folder) throw new Error(`'${file.name}' is not in a class folder: type the label it belongs to first.`);
      return { file, label: folder };
    });
}

/**
 * Upload by dropping files or a folder of class folders, or by picking them: each image goes through
 * POST /uploads and a presigned PUT, four at a time. `dataset()` names the target (asked when uploading).
 */
export function Uploader(props: { dataset: () => string; onDone?: (dataset: string, count: number) => void; labels?: string[] }) {
  const [label, setLabel] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number; failed: string[] }>();
  const [error, setError] = useState<Error>();

  async function upload(files: Array<{ file: File; path: string }>) {
    setError(undefined);
    try {
      const dataset = props.dataset();
      const plan = planUploads(files, label);
      if (!plan.length) throw new Error('No files to upload in what was dropped or picked.');
      const state = { done: 0, total: plan.length, failed: [] as string[] };
      setProgress({ ...state });
      let next = 0;
      const worker = async () => {
        while (next < plan.length) {
          const item = plan[next++]!;
          try {
            await uploadImage(dataset, item.label, item.file);
          } catch (e) {
            state.failed.push(`${item.label}/${item.file.name}: ${(e as Error).message}`);
          }
          state.done++;
          setProgress({ ...state, failed: [...state.failed] });
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      forgetThumbnails();
      props.onDone?.(dataset, state.done - state.failed.length);
    } catch (e) {
      setError(e as Error);
    }
  }

  const pick = (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
    input.value = '';
    void upload(files);
  };

  return (
    <DropZone label="Upload images" onFiles={(transfer) => void droppedFiles(transfer).then(upload, setError)}>
      <p>
        Drop images or a folder of class folders (<code>&lt;label&gt;/&lt;image&gt;</code>) here, or pick them:
      </p>
      <div class="row">
        <label>
          Label for loose files (a new one creates the label)
          <input type="text" value={label} list="known-labels" placeholder="e.g. rose" onInput={(e) => setLabel(e.currentTarget.value)} />
        </label>
        <datalist id="known-labels">{(props.labels ?? []).map((l) => <option key={l} value={l} />)}</datalist>
        <label class="button">
          Choose images…
          <input class="visually-hidden" type="file" accept="image/*" multiple onChange={(e) => pick(e.currentTarget)} />
        </label>
        <label class="button">
          Choose a folder of class folders…
          <input class="visually-hidden" type="file" multiple {...{ webkitdirectory: true }} onChange={(e) => pick(e.currentTarget)} />
        </label>
      </div>
      {progress && (
        <p role="status">
          Uploaded {progress.done - progress.failed.length} of {progress.total}
          {progress.failed.length ? `, ${progress.failed.length} failed` : ''}
          {progress.done === progress.total ? ' — done.' : '…'}
        </p>
      )}
      {progress?.failed.length ? (
        <ul class="failures">
          {progress.failed.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      ) : null}
      <ErrorNote error={error} />
    </DropZone>
  );
}
