/** Benchmark results as data (for the JSON file) and as Markdown tables (for the terminal and issue notes). */

export type Cell = string | number | boolean | null;

export interface Column {
  /** The row field this column shows. */
  key: string;
  label: string;
  /** Decimal places for numbers. @default 0 for integers, else 2 */
  digits?: number;
  /** Appended to formatted numbers, e.g. '×' or '%'. */
  suffix?: string;
}

export interface BenchTable {
  /** Stable id for the JSON, e.g. 'zoo'. */
  id: string;
  title: string;
  /** The exact command that reproduces this table. */
  command: string;
  columns: Column[];
  rows: Array<Record<string, Cell>>;
  /** Printed under the table: how it was measured, what a dash means, targets. */
  notes: string[];
}

/** What every table header names: where and how the numbers were taken. */
export interface TableContext {
  machine: string;
  engines: string;
  date: string;
  /** os.loadavg() when the table was finished: the machine may be shared. */
  loadavg: readonly number[];
}

/** Missing values print as an em dash, so an absent engine is visible rather than a blank. */
export const MISSING = '—';

export function formatCell(value: Cell | undefined, column: Pick<Column, 'digits' | 'suffix'> = {}): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return MISSING;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const digits = column.digits ?? (Number.isInteger(value) ? 0 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) + (column.suffix ?? '');
}

/** `|` inside a cell would split it; Markdown escapes it as `\|`. */
const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/**
 * A GitHub-flavoured Markdown table, columns padded so it also reads as plain text. Columns holding
 * numbers are right-aligned (`---:`), the others left-aligned.
 */
export function formatMarkdownTable(columns: readonly Column[], rows: ReadonlyArray<Record<string, Cell>>): string {
  const cells = rows.map((row) => columns.map((c) => escapeCell(formatCell(row[c.key], c))));
  const header = columns.map((c) => escapeCell(c.label));
  const numeric = columns.map((c) => rows.some((r) => typeof r[c.key] === 'number'));
  const widths = columns.map((_, i) => Math.max(3, header[i]!.length, ...cells.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (values: string[]) => `| ${values.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/** The line above every table: the command to reproduce it, the machine, the engines, the date and the load. */
export function formatHeaderLine(command: string, context: TableContext): string {
  const load = context.loadavg.map((l) => l.toFixed(1)).join(' ');
  return `\`${command}\` · ${context.machine} · ${context.engines} · ${context.date} · load ${load} (1/5/15 min)`;
}

/** A whole table as printed: title, header line, table, notes. */
export function formatBenchTable(table: BenchTable, context: TableContext): string {
  const parts = [`### ${table.title}`, '', formatHeaderLine(table.command, context), ''];
  parts.push(table.rows.length > 0 ? formatMarkdownTable(table.columns, table.rows) : '_no rows_');
  if (table.notes.length > 0) parts.push('', ...table.notes.map((n) => `- ${n}`));
  return parts.join('\n');
}
