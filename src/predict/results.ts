import type { LabelScore } from '../heads/predict.js';

/** One line of results.jsonl: an image's label, its probability and the top-k, or why it failed. */
export type PredictionRow =
  | { key: string; label: string; probability: number; top: Array<{ label: string; probability: number }>; source: PredictionSource }
  | { key: string; error: { code: string; message: string } };

/** Where an image's features came from: the cache, this job's extraction, or the whole network (a `model` job). */
export type PredictionSource = 'cached' | 'extracted' | 'model';

/** The row of an image with its top-k (highest first). */
export function predictionRow(key: string, top: readonly LabelScore[], source: PredictionSource): PredictionRow {
  const best = top[0]!;
  return { key, label: best.label, probability: best.score, top: top.map(({ label, score }) => ({ label, probability: score })), source };
}

export function failureRow(key: string, code: string, message: string): PredictionRow {
  return { key, error: { code, message } };
}

/** results.jsonl: one JSON object per line, rows in key order. */
export function toJsonl(rows: readonly PredictionRow[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

const CSV_COLUMNS = ['key', 'label', 'probability', 'top', 'source', 'error_code', 'error_message'] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** results.csv: the same rows; `top` is `label:probability` pairs joined by ';'. */
export function toCsv(rows: readonly PredictionRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const fields =
      'error' in row
        ? [row.key, '', '', '', '', row.error.code, row.error.message]
        : [row.key, row.label, String(row.probability), row.top.map((t) => `${t.label}:${t.probability}`).join(';'), row.source, '', ''];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
