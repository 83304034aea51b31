/**
 * `npm run bench -- [--only zoo,pipeline,ingest,heads,classify,finetune,data,predict] [--quick] [--models …] [--out …]`
 * Prints one Markdown table per section (stdout carries nothing else) and writes them all as JSON.
 * See bench/README.md for what each table measures and how long a run takes.
 */
import os from 'node:os';
import { InvalidArgumentError } from '../src/errors.js';
import { parseBenchArgs, reproduceCommand, USAGE, type BenchArgs, type Section } from './args.js';
import { runClassify } from './classify.js';
import { runData } from './data.js';
import type { SectionContext, SectionRunners } from './context.js';
import { runFinetune } from './finetune-table.js';
import { runHeads } from './heads-table.js';
import { runIngest } from './ingest.js';
import { describeMachine, enginesLine, machineLine, type MachineInfo } from './machine.js';
import { runPipeline } from './pipeline.js';
import { runPredict } from './predict.js';
import { writeReport, type TableResult } from './report.js';
import { StackPool } from './stack.js';
import { formatBenchTable, type TableContext } from './table.js';
import { runZoo } from './zoo.js';

const RUNNERS: SectionRunners = {
  zoo: runZoo,
  pipeline: runPipeline,
  ingest: runIngest,
  heads: runHeads,
  classify: runClassify,
  finetune: runFinetune,
  data: runData,
  predict: runPredict,
};

/** The sections that run against local dev stacks (StackPool). */
const STACK_SECTIONS: readonly Section[] = ['ingest', 'classify'];

/** The real stdout, for the tables: everything else that writes to stdout goes to stderr (main). */
const tablesOut = process.stdout.write.bind(process.stdout) as (text: string) => boolean;

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function tableContext(machine: MachineInfo): TableContext {
  return { machine: machineLine(machine), engines: enginesLine(machine), date: new Date().toISOString(), loadavg: os.loadavg() };
}

/** Runs one section; a failure becomes a result that says why, so the other sections still run. */
async function runSection(section: Section, args: BenchArgs, machine: MachineInfo, stacks: StackPool): Promise<TableResult[]> {
  const context: SectionContext = { args, command: reproduceCommand(section, args), log, stacks };
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const tables = await RUNNERS[section](context);
    return tables.map((table) => {
      const where = tableContext(machine);
      tablesOut(`${formatBenchTable(table, where)}\n\n`);
      return { ...table, date: where.date, loadavg: [...where.loadavg], durationSeconds: seconds() };
    });
  } catch (error) {
    const message = (error as Error)?.stack ?? String(error);
    log(`${section} failed: ${message}`);
    const where = tableContext(machine);
    const failed = { id: section, title: `${section}: FAILED`, command: context.command, columns: [], rows: [], notes: [`failed: ${(error as Error)?.message ?? String(error)}`] };
    tablesOut(`${formatBenchTable(failed, where)}\n\n`);
    return [{ ...failed, date: where.date, loadavg: [...where.loadavg], durationSeconds: seconds(), error: message }];
  }
}

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // stdout is for the tables only. The handlers under test log JSON lines, through console.log or through
  // Powertools' own Console on process.stdout (the logger's and the metrics' lines): both go to stderr.
  console.log = (...values: unknown[]) => console.error(...values);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const started = new Date();
  const machine = await describeMachine();
  log(`${machineLine(machine)}; ${enginesLine(machine)}; sections: ${args.only.join(', ')}${args.quick ? ' (quick)' : ''}`);
  const stacks = new StackPool(log);
  const tables: TableResult[] = [];
  // The stacks hold whole models: stop them once the last section that uses them is done.
  const lastStackSection = args.only.filter((s) => STACK_SECTIONS.includes(s)).at(-1);
  try {
    for (const section of args.only) {
      tables.push(...(await runSection(section, args, machine, stacks)));
      if (section === lastStackSection) await stacks.close();
    }
  } finally {
    await stacks.close();
  }
  const durationSeconds = (Date.now() - started.getTime()) / 1000;
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const path = await writeReport({ command, args, started: started.toISOString(), durationSeconds, machine, tables }, args.out);
  log(`done in ${durationSeconds.toFixed(0)} s; results in ${path}`);
  return tables.some((t) => t.error) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
