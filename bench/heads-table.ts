/** Heads table (issue 4): bench/heads.ts's rows (its owner's benchmark), as a table with the others. */
import { benchHeads, type Row } from './heads.js';
import type { SectionContext } from './context.js';
import type { BenchTable, Cell } from './table.js';

export const HEADS_TARGET_SECONDS = 10;
/** --quick: only the default engine (the manual-backprop loop), whose rows run all 10 epochs on wasm. */
export const QUICK_HEADS_OPTIONS = ['tfjs loop (manual backprop)'];
/**
 * --quick stops after this many rows: benchHeads filters by option name or backend, not both, and after
 * its three wasm batch sizes the same option comes on the cpu backend (1 epoch there is minutes).
 */
export const QUICK_HEADS_ROWS = 3;

/** Thrown from onRow to end benchHeads early; benchHeads restores the backend on the way out. */
class EnoughRows extends Error {}

/** benchHeads' rows; with `limit`, it is stopped once that many are measured. */
async function measureHeads(only: string[] | undefined, limit: number, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const onRow = (row: Row) => {
    rows.push(row);
    log(`heads: ${row.option} / ${row.backend} / batch ${row.batchSize}: ${row.seconds.toFixed(1)} s`);
    if (rows.length >= limit) throw new EnoughRows();
  };
  try {
    await benchHeads({ only, onRow });
  } catch (error) {
    if (!(error instanceof EnoughRows)) throw error;
  }
  return rows;
}

function toCells(row: Row): Record<string, Cell> {
  return {
    option: row.option,
    backend: row.backend,
    batch: row.batchSize,
    seconds: row.seconds,
    extrapolated: row.epochsRun < 10,
    cpuSeconds: row.cpuSeconds,
    valAccuracy: row.valAccuracy,
    epochsRun: row.epochsRun,
  };
}

export async function runHeads(context: SectionContext): Promise<BenchTable[]> {
  const { quick } = context.args;
  const rows = await measureHeads(quick ? QUICK_HEADS_OPTIONS : undefined, quick ? QUICK_HEADS_ROWS : Infinity, context.log);
  return [
    {
      id: 'heads',
      title: `Head training: 5,000 × 2048 → 256 → 10, 10 epochs (target < ${HEADS_TARGET_SECONDS} s)`,
      command: context.command,
      columns: [
        { key: 'option', label: 'option' },
        { key: 'backend', label: 'backend' },
        { key: 'batch', label: 'batch' },
        { key: 'seconds', label: 'seconds (10 epochs)', digits: 1 },
        { key: 'extrapolated', label: 'extrapolated from 1 epoch' },
        { key: 'cpuSeconds', label: 'CPU s', digits: 1 },
        { key: 'valAccuracy', label: 'val acc', digits: 3 },
        { key: 'epochsRun', label: 'epochs run' },
      ],
      rows: rows.map(toCells),
      notes: [
        'benchHeads() from bench/heads.ts: synthetic class-mean features (+1,000 validation rows), each training option on the same data.',
        'Options slower than the default engine run 1 epoch, extrapolated to 10 (val acc after that epoch); `node bin/run-ts.js bench/heads.ts --full` runs them all the way.',
        ...(quick ? [`--quick: only ${QUICK_HEADS_OPTIONS.join(', ')} on wasm; the full run adds model.fit, autograd, gather and the cpu and js options.`] : []),
      ],
    },
  ];
}
