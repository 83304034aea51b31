/** The JSON file a bench run leaves behind: every table, with where and when it was measured. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BenchArgs } from './args.js';
import type { MachineInfo } from './machine.js';
import type { BenchTable } from './table.js';

export interface TableResult extends BenchTable {
  /** ISO time the table was finished. */
  date: string;
  loadavg: number[];
  durationSeconds: number;
  /** Set when the section failed: its tables are missing and this says why. */
  error?: string;
}

export interface BenchReport {
  command: string;
  args: BenchArgs;
  started: string;
  durationSeconds: number;
  machine: MachineInfo;
  tables: TableResult[];
}

/** `2025-06-01T12-30-05Z`: an ISO time that is a valid file name everywhere (no colons). */
export function fileStamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** `--out` names a .json file, or a folder that gets `<date>.json`. */
export function reportPath(out: string, date: Date): string {
  return out.endsWith('.json') ? resolve(out) : resolve(join(out, `${fileStamp(date)}.json`));
}

export async function writeReport(report: BenchReport, out: string): Promise<string> {
  const path = reportPath(out, new Date(report.started));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
