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

/** What this table assumes of bench/finetune.ts: rows of plain fields, an optional quick mode and progress. */
export type BenchFinetune = (options?: { quick?: boolean; onRow?: (row: object) => void }) => Promise<object[]>;

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
    columns: keys.map((key) => ({ key, label: key })),
    rows: rows.map((row) => Object.fromEntries(keys.map((key) => [key, toCell((row as Record<string, unknown>)[key])]))),
  };
}

export async function runFinetune(context: SectionContext): Promise<BenchTable[]> {
  const table = { id: 'finetune', title: 'Fine-tuning throughput (forward + backward), images/second', command: context.command };
  const benchFinetune = await loadBenchFinetune();
  if (!benchFinetune) {
    return [{ ...table, columns: [], rows: [], notes: ['bench/finetune.ts is not in this tree yet (issue 8): no rows.'] }];
  }
  const rows = await benchFinetune({ quick: context.args.quick, onRow: (row) => context.log(`finetune: ${JSON.stringify(row)}`) });
  return [{ ...table, ...genericTable(rows), notes: ['Rows from benchFinetune() in bench/finetune.ts, as it reports them.'] }];
}
