/** What every benchmark section gets, and what it returns. */
import type { BenchArgs, Section } from './args.js';
import type { StackPool } from './stack.js';
import type { BenchTable } from './table.js';

export interface SectionContext {
  args: BenchArgs;
  /** The command that reproduces this section's table. */
  command: string;
  /** Progress for a run that takes minutes: goes to stderr, never into the tables. */
  log(line: string): void;
  /** Local dev stacks shared by the ingest and classify sections (each started once). */
  stacks: StackPool;
}

export type SectionRunner = (context: SectionContext) => Promise<BenchTable[]>;

export type SectionRunners = Record<Section, SectionRunner>;
