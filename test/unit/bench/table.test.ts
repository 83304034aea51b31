import { describe, expect, it } from 'vitest';
import { formatBenchTable, formatCell, formatHeaderLine, formatMarkdownTable, MISSING, type BenchTable, type Column } from '../../../bench/table.js';

const columns: Column[] = [
  { key: 'model', label: 'model' },
  { key: 'ms', label: 'ms/img', digits: 1 },
  { key: 'speedup', label: 'speed-up', digits: 1, suffix: '×' },
];

describe('formatCell', () => {
  it('formats numbers with digits, thousands separators and a suffix', () => {
    expect(formatCell(1234.567, { digits: 1 })).toBe('1,234.6');
    expect(formatCell(4.25, { digits: 1, suffix: '×' })).toBe('4.3×');
    expect(formatCell(12)).toBe('12');
    expect(formatCell(0.5)).toBe('0.50');
  });

  it('shows missing values as a dash and booleans as yes/no', () => {
    expect([formatCell(null), formatCell(undefined), formatCell(Number.NaN)]).toEqual([MISSING, MISSING, MISSING]);
    expect([formatCell(true), formatCell(false)]).toEqual(['yes', 'no']);
    expect(formatCell(Infinity)).toBe('∞');
    expect(formatCell('not installed', { digits: 1 })).toBe('not installed');
  });
});

describe('formatMarkdownTable', () => {
  it('pads columns, right-aligns numeric ones and dashes missing cells', () => {
    const table = formatMarkdownTable(columns, [
      { model: 'ResNet50', ms: 49.04, speedup: 4.54 },
      { model: 'VGG16', ms: 138, speedup: null },
    ]);
    expect(table.split('\n')).toEqual([
      '| model    | ms/img | speed-up |',
      '| -------- | -----: | -------: |',
      '| ResNet50 |   49.0 |     4.5× |',
      '| VGG16    |  138.0 |        — |',
    ]);
  });

  it('escapes pipes in cells so a row keeps its columns', () => {
    const table = formatMarkdownTable([{ key: 'a', label: 'a|b' }], [{ a: 'x|y' }]);
    expect(table.split('\n')[0]).toBe('| a\\|b |');
    expect(table.split('\n')[2]).toBe('| x\\|y |');
  });
});

describe('formatBenchTable', () => {
  const context = { machine: 'CPU ×2 cores', engines: 'TF.js wasm', date: '2025-01-02T03:04:05Z', loadavg: [9.87, 8, 7.25] };

  it('puts the command, machine, engines, date and load above the table, and the notes below', () => {
    expect(formatHeaderLine('npm run bench -- --only zoo', context)).toBe(
      '`npm run bench -- --only zoo` · CPU ×2 cores · TF.js wasm · 2025-01-02T03:04:05Z · load 9.9 8.0 7.3 (1/5/15 min)',
    );
    const table: BenchTable = { id: 'zoo', title: 'Zoo', command: 'npm run bench -- --only zoo', columns, rows: [{ model: 'A', ms: 1, speedup: 2 }], notes: ['random weights'] };
    const lines = formatBenchTable(table, context).split('\n');
    expect(lines[0]).toBe('### Zoo');
    expect(lines[2]).toContain('`npm run bench -- --only zoo`');
    expect(lines[4]).toBe('| model | ms/img | speed-up |');
    expect(lines.at(-1)).toBe('- random weights');
  });

  it('says so when a table has no rows', () => {
    const table: BenchTable = { id: 'finetune', title: 'Fine-tuning', command: 'c', columns: [], rows: [], notes: [] };
    expect(formatBenchTable(table, context).split('\n').at(-1)).toBe('_no rows_');
  });
});
