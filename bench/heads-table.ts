/** Heads table (issue 4): bench/heads.ts's rows (its owner's benchmark), as a table with the others. */
import { benchAutoHeads, benchHeads, type AutoRow, type Row } from './heads.js';
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

/** Targets of issue 14: ratio ≥ 1.00; selection + refit ≤ 10 s for 1,000 × 1,024 and ≤ 60 s for 10,000 × 2,048. */
export const AUTO_TARGETS = { ratio: 1, seconds1k: 10, seconds10k: 60 } as const;

function autoCells(row: AutoRow): Record<string, Cell> {
  return {
    case: row.case,
    size: `${row.rows.toLocaleString('en')} × ${row.dim.toLocaleString('en')}`,
    ours: row.ours,
    chosen: row.chosen,
    sklearn: row.sklearn,
    sklearnC: row.sklearnC,
    ratio: row.sklearn ? row.ours / row.sklearn : null,
    seconds: row.seconds,
    cpuSeconds: row.cpuSeconds,
    sklearnSeconds: row.sklearnSeconds,
    ece: `${row.ece.before.toFixed(3)} → ${row.ece.after.toFixed(3)}`,
  };
}

function autoTable(context: SectionContext, rows: AutoRow[]): BenchTable {
  return {
    id: 'heads-auto',
    title: `head "auto" vs scikit-learn LogisticRegressionCV on the same features (targets: ratio ≥ ${AUTO_TARGETS.ratio.toFixed(2)}; selection + refit ≤ ${AUTO_TARGETS.seconds1k} s for 1,000 × 1,024, ≤ ${AUTO_TARGETS.seconds10k} s for 10,000 × 2,048)`,
    command: context.command,
    columns: [
      { key: 'case', label: 'case' },
      { key: 'size', label: 'train rows × dim' },
      { key: 'ours', label: 'headstart auto acc', digits: 4 },
      { key: 'chosen', label: 'chosen' },
      { key: 'sklearn', label: 'LogisticRegressionCV acc', digits: 4 },
      { key: 'sklearnC', label: 'its C' },
      { key: 'ratio', label: 'ratio', digits: 3 },
      { key: 'seconds', label: 'auto s (select + refit)', digits: 1 },
      { key: 'cpuSeconds', label: 'auto CPU s', digits: 1 },
      { key: 'sklearnSeconds', label: 'sklearn s', digits: 1 },
      { key: 'ece', label: 'ECE before → after' },
    ],
    rows: rows.map(autoCells),
    notes: [
      'benchAutoHeads() from bench/heads.ts. Test accuracy on held-out rows: fashion-mnist-small train/ → test/ (DenseNet121 avg_pool features through FeaturePipeline, real weights from ../shared), the synthetic set on 2,000 fresh rows.',
      'scikit-learn: StandardScaler + LogisticRegressionCV(Cs=[0.01, 0.1, 1, 10], cv=5, max_iter=100) on the same Float32 features, OMP/OpenBLAS threads = 1 (our fit is single-threaded). A dash: not installed (pip install scikit-learn) or a timing-only row.',
      'auto: 5-fold stratified CV over linear C ∈ {0.001, 0.01, 0.1, 1} (L-BFGS) and an MLP 256, refit on all rows, temperature scaling; ECE of the out-of-fold predictions before → after.',
      ...(rows.some((r) => r.sklearnNote && !r.case.startsWith('timing')) ? [`scikit-learn: ${rows.find((r) => r.sklearnNote)!.sklearnNote}`] : []),
      ...(context.args.quick ? ['--quick: the 10,000 × 2,048 timing row is left out.'] : []),
    ],
  };
}

export async function runHeads(context: SectionContext): Promise<BenchTable[]> {
  const { quick } = context.args;
  const autoRows = await benchAutoHeads({ quick, log: context.log, onRow: (row) => context.log(`heads auto: ${row.case}: ${row.ours.toFixed(4)} vs ${row.sklearn?.toFixed(4) ?? '—'} in ${row.seconds.toFixed(1)} s`) });
  const rows = await measureHeads(quick ? QUICK_HEADS_OPTIONS : undefined, quick ? QUICK_HEADS_ROWS : Infinity, context.log);
  return [
    autoTable(context, autoRows),
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
