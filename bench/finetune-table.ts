/**
 * Fine-tuning table (issue 8): the rows of `benchFinetune()` from bench/finetune.ts, that issue's own
 * benchmark, when the file exists. It is loaded at run time so the bench works (and type-checks) before
 * that file lands; its rows are shown as they come, one column per field.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HeadstartError } from '../src/errors.js';
import type { SectionContext } from './context.js';
import type { BenchTable, Cell, Column } from './table.js';

/** What this table assumes of bench/finetune.ts: rows of plain fields, a quick mode, parts to run, progress. */
export type BenchFinetune = (options?: { quick?: boolean; only?: string[]; onRow?: (row: object) => void }) => Promise<object[]>;

/**
 * --quick runs the throughput and on-paper rows only: the real check (DenseNet121 fine-tuned on
 * fashion-mnist) is issue 8's accuracy check, minutes of training, not a throughput number.
 */
export const QUICK_FINETUNE_PARTS = ['throughput', 'estimate'];

/** Friendlier labels and number formats for the fields bench/finetune.ts reports; others show as named. */
const KNOWN_COLUMNS: Record<string, Omit<Column, 'key'>> = {
  imagesPerSecond: { label: 'img/s', digits: 2 },
  valAccuracy: { label: 'val acc', digits: 3 },
};

const MODULE = new URL('./finetune.ts', import.meta.url);

/** `benchFinetune` from bench/finetune.ts, or undefined while that file does not exist. */
export async function loadBenchFinetune(module: URL = MODULE): Promise<BenchFinetune | undefined> {
  if (!existsSync(fileURLToPath(module))) return undefined;
  const loaded = (await import(module.href)) as { benchFinetune?: unknown };
  if (typeof loaded.benchFinetune !== 'function') {
    throw new HeadstartError('BenchFinetune', `${fileURLToPath(module)} does not export a benchFinetune() function.`);
  }
  return loaded.benchFinetune as BenchFinetune;
}

/** Any value as a cell: numbers, strings and booleans as they are, the rest as JSON. */
export function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** Rows of arbitrary objects as table rows, one column per field in first-seen order. */
export function genericTable(rows: readonly object[]): { columns: Column[]; rows: Array<Record<string, Cell>> } {
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return {
    columns: keys.map((key): Column => KNOWN_COLUMNS[key] ? { key, ...KNOWN_COLUMNS[key] } : { key, label: key }),
    rows: rows.map((row) => Object.fromEntries(keys.map((key) => [key, toCell((row as Record<string, unknown>)[key])]))),
  };
}

export async function runFinetune(context: SectionContext): Promise<BenchTable[]> {
  const table = { id: 'finetune', title: 'Fine-tuning throughput (forward + backward), images/second', command: context.command };
  const benchFinetune = await loadBenchFinetune();
  if (!benchFinetune) {
    return [{ ...table, columns: [], rows: [], notes: ['bench/finetune.ts is not in this tree yet (issue 8): no rows.'] }];
  }
  const { quick } = context.args;
  const rows = await benchFinetune({
    quick,
    only: quick ? QUICK_FINETUNE_PARTS : undefined,
    onRow: (row) => context.log(`finetune: ${JSON.stringify(row)}`),
  });
  const notes = ['Rows from benchFinetune() in bench/finetune.ts, as it reports them (its file header says how each is measured).'];
  if (quick) notes.push(`--quick: only ${QUICK_FINETUNE_PARTS.join(' and ')} rows; the full run adds the real check (DenseNet121 on fashion-mnist, head only vs fine-tuned).`);
  return [{ ...table, ...genericTable(rows), notes }];
}
