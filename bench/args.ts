/** `npm run bench -- [--only a,b] [--quick] [--models m,n] [--out path]`: parsed and validated. */
import { InvalidArgumentError, listValues } from '../src/errors.js';
import { MODEL_IDS, type ModelId } from '../src/zoo/types.js';

/** The benchmark sections, in the order they run and print. */
export const SECTIONS = ['zoo', 'pipeline', 'ingest', 'heads', 'classify', 'finetune', 'data', 'predict'] as const;
export type Section = (typeof SECTIONS)[number];

export const DEFAULT_OUT_DIR = 'bench/results';

export interface BenchArgs {
  /** The sections to run, in SECTIONS order. @default all */
  only: Section[];
  /** Fewer models and iterations: the whole run in a few minutes. @default false */
  quick: boolean;
  /** Zoo models for the zoo, pipeline and ingest tables; undefined: each section's default list. */
  models?: ModelId[];
  /** Where the JSON goes: a folder (a dated file inside) or a path ending in .json. */
  out: string;
  help: boolean;
}

const FLAGS = ['--only', '--quick', '--models', '--out', '--help'] as const;

export const USAGE = `usage: npm run bench -- [options]
  --only <sections>  comma-separated: ${SECTIONS.join(', ')} (default: all)
  --quick            fewer models, requests and iterations (a few minutes)
  --models <ids>     zoo models for the zoo, pipeline and ingest tables: ${MODEL_IDS.join(', ')}
  --out <path>       folder for <date>.json, or a .json file (default: $OUT_DIR, else ${DEFAULT_OUT_DIR}/)
  --help             this text`;

/** Splits a comma list and checks every entry against `valid`; the error lists the valid values. */
function parseList<T extends string>(value: string, valid: readonly T[], what: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError(`${what} needs at least one value: expected ${listValues(valid)}.`);
  const unknown = items.filter((s) => !(valid as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`Unknown ${what} ${listValues(unknown)}: expected ${listValues(valid)}.`);
  }
  return [...new Set(items)] as T[];
}

/** `--flag value` and `--flag=value`; returns the value and how many argv entries it used. */
function takeValue(argv: readonly string[], i: number, flag: string, inline: string | undefined): [string, number] {
  if (inline !== undefined) return [inline, 1];
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) throw new InvalidArgumentError(`${flag} needs a value.`);
  return [next, 2];
}

/**
 * Parses the arguments after `npm run bench --`. `env.OUT_DIR` is the default output folder.
 * @throws InvalidArgumentError for an unknown flag, section or model, or a flag without its value.
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchArgs {
  const args: BenchArgs = { only: [...SECTIONS], quick: false, out: env.OUT_DIR || DEFAULT_OUT_DIR, help: false };
  for (let i = 0; i < argv.length; ) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === '--quick' || flag === '--help') {
      if (inline !== undefined) throw new InvalidArgumentError(`${flag} takes no value.`);
      args[flag === '--quick' ? 'quick' : 'help'] = true;
      i += 1;
      continue;
    }
    if (flag !== '--only' && flag !== '--models' && flag !== '--out') {
      throw new InvalidArgumentError(`Unknown argument '${argv[i]}': expected ${listValues(FLAGS)}.`);
    }
    const [value, used] = takeValue(argv, i, flag, inline);
    if (flag === '--only') {
      const chosen = parseList(value, SECTIONS, 'section');
      args.only = SECTIONS.filter((s) => chosen.includes(s));
    } else if (flag === '--models') {
      args.models = parseList(value, MODEL_IDS, 'model');
    } else {
      args.out = value;
    }
    i += used;
  }
  return args;
}

/** The command that reproduces one section's table, e.g. `npm run bench -- --only zoo --quick`. */
export function reproduceCommand(section: Section, args: Pick<BenchArgs, 'quick' | 'models'>): string {
  const parts = ['npm run bench --', '--only', section];
  if (args.quick) parts.push('--quick');
  if (args.models && (section === 'zoo' || section === 'pipeline' || section === 'ingest')) parts.push('--models', args.models.join(','));
  return parts.join(' ');
}
