import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { thumbnailUrl, type Defaults, type EpochLog, type ModelSummary } from './api.js';

export function ErrorNote(props: { error?: Error }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error.message}
    </p>
  );
}

export const percent = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(digits)}%`);
export const fixed = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? '–' : value.toFixed(digits));

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A thumbnail from GET /thumbnails, loaded when it scrolls into view. */
export function Thumb(props: { imageKey: string; caption?: ComponentChildren; size?: number }) {
  const ref = useRef<HTMLElement>(null);
  const [src, setSrc] = useState<string>();
  const [failed, setFailed] = useState<string>();
  useEffect(() => {
    let live = true;
    const element = ref.current;
    if (!element) return;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      thumbnailUrl(props.imageKey, props.size).then(
        (url) => live && setSrc(url),
        (error: Error) => live && setFailed(error.message),
      );
    });
    observer.observe(element);
    return () => {
      live = false;
      observer.disconnect();
    };
  }, [props.imageKey]);
  const name = props.imageKey.slice(props.imageKey.lastIndexOf('/') + 1);
  return (
    <figure class="thumb" ref={ref} title={props.imageKey}>
      {src ? <img src={src} alt={name} width={96} height={96} /> : <div class="placeholder" aria-label={failed ? `${name}: ${failed}` : `${name} loading`}>{failed ? '⚠' : ''}</div>}
      <figcaption>{props.caption ?? name}</figcaption>
    </figure>
  );
}

export interface Series {
  name: string;
  values: Array<number | null | undefined>;
  className: string;
}

/** Loss and accuracy per epoch, training and validation, on two charts: a job's or a model's history. */
export function HistoryCharts(props: { history: EpochLog[] }) {
  const { history } = props;
  return (
    <div class="charts">
      <EpochChart
        title="Loss"
        series={[
          { name: 'training', values: history.map((h) => h.loss), className: 's-train' },
          { name: 'validation', values: history.map((h) => h.valLoss), className: 's-val' },
        ]}
      />
      <EpochChart
        title="Accuracy"
        yMax={1}
        series={[
          { name: 'training', values: history.map((h) => h.accuracy), className: 's-train' },
          { name: 'validation', values: history.map((h) => h.valAccuracy), className: 's-val' },
        ]}
      />
    </div>
  );
}

/** A line chart of values per epoch (SVG): one line per series, a dot per epoch, axes with a few ticks. */
export function EpochChart(props: { title: string; series: Series[]; yMax?: number }) {
  const width = 420;
  const height = 220;
  const pad = { left: 44, right: 12, top: 12, bottom: 32 };
  const n = Math.max(1, ...props.series.map((s) => s.values.length));
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => typeof v === 'number'));
  const yMax = props.yMax ?? (all.length ? Math.max(...all) * 1.1 || 1 : 1);
  const x = (i: number) => pad.left + (n === 1 ? (width - pad.left - pad.right) / 2 : (i / (n - 1)) * (width - pad.left - pad.right));
  const y = (v: number) => pad.top + (1 - v / yMax) * (height - pad.top - pad.bottom);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const xStep = Math.max(1, Math.ceil(n / 8));
  const last = props.series.map((s) => `${s.name} ${fixed(s.values.at(-1), 3)}`).join(', ');
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title} over ${n} epoch(s); latest: ${last}`}>
        {yTicks.map((t) => (
          <g key={t}>
            <line class="grid" x1={pad.left} x2={width - pad.right} y1={y(t)} y2={y(t)} />
            <text class="tick" x={pad.left - 6} y={y(t) + 4} text-anchor="end">
              {yMax <= 1.5 ? t.toFixed(2) : t.toFixed(1)}
            </text>
          </g>
        ))}
        {Array.from({ length: n }, (_, i) => i)
          .filter((i) => i % xStep === 0 || (i === n - 1 && (n - 1) % xStep > xStep / 2))
          .map((i) => (
            <text key={i} class="tick" x={x(i)} y={height - pad.bottom + 16} text-anchor="middle">
              {i + 1}
            </text>
          ))}
        <text class="tick" x={(width + pad.left) / 2} y={height - 2} text-anchor="middle">
          epoch
        </text>
        {props.series.map((s) => {
          const points = s.values.map((v, i) => (typeof v === 'number' ? [x(i), y(v)] : undefined)).filter((p): p is number[] => p !== undefined);
          return (
            <g key={s.name} class={s.className}>
              <polyline fill="none" points={points.map((p) => p.join(',')).join(' ')} />
              {points.map((p, i) => (
                <circle key={i} cx={p[0]} cy={p[1]} r={2.5} />
              ))}
            </g>
          );
        })}
      </svg>
      <ul class="legend">
        {props.series.map((s) => (
          <li key={s.name} class={s.className}>
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** Files from a drop: loose files, and folders read recursively with their relative paths. */
export async function droppedFiles(transfer: DataTransfer): Promise<Array<{ file: File; path: string }>> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (!entries.length) return [...transfer.files].map((file) => ({ file, path: file.name }));
  const out: Array<{ file: File; path: string }> = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, path: `${prefix}${entry.name}` });
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  for (const entry of entries) await walk(entry, '');
  return out;
}

/** A region that takes dropped files; its controls stay usable by keyboard. */
export function DropZone(props: { label: string; onFiles: (transfer: DataTransfer) => void; children: ComponentChildren }) {
  const [over, setOver] = useState(false);
  return (
    <section
      class={over ? 'dropzone over' : 'dropzone'}
      aria-label={props.label}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (e.dataTransfer) props.onFiles(e.dataTransfer);
      }}
    >
      {props.children}
    </section>
  );
}

/** One choice of what classifies: `head:<id>` or `model:<id>` (a fine-tuned model or the ImageNet classifier). */
export interface ModelTarget {
  value: string;
  label: string;
}

/** The heads, fine-tuned models and the service's ImageNet classifier, as GET /models and /train/defaults list them. */
export function modelTargets(models: { models: ModelSummary[]; finetuned: ModelSummary[] }, defaults: Defaults): ModelTarget[] {
  return [
    ...models.models.map((m) => ({ value: `head:${m.headId}`, label: `head ${m.headId} (${m.dataset}, ${percent(m.accuracy)})` })),
    ...models.finetuned.map((m) => ({ value: `model:${m.modelId}`, label: `fine-tuned ${m.modelId} (${m.dataset}, ${percent(m.accuracy)})` })),
    { value: `model:${defaults.model}`, label: `ImageNet classifier (${defaults.model})` },
  ];
}
