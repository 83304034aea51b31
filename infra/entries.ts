import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../src/errors.js';

/** The repository root: the Docker build context and the NodejsFunction project root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Handler entry files (each exports `handler`), relative to the project root. */
export interface HandlerEntries {
  /** SQS-wrapped S3 events → features (container image). */
  readonly extract: string;
  /** Trains a head from cached features (zip, TF.js layer). */
  readonly train: string;
  /** The train function's on-failure destination: marks a job whose trainer died failed (zip). */
  readonly trainFailed: string;
  /** REST proxy handler for every route but /classify and /features (zip). */
  readonly api: string;
  /** POST /classify and POST /features (container image, same image as extract). */
  readonly classify: string;
  /** Batch prediction jobs with a `model`, started by POST /predict (container image, same image as extract). */
  readonly predict: string;
}

export const DEFAULT_ENTRIES: HandlerEntries = {
  extract: 'functions/extract/index.ts',
  train: 'functions/train/index.ts',
  trainFailed: 'functions/train-failed/index.ts',
  api: 'functions/api/index.ts',
  classify: 'functions/classify/index.ts',
  predict: 'functions/predict/index.ts',
};

/** Entries as paths relative to the project root ('/'-separated, as Docker build args need them), checked to exist. */
export function resolveEntries(projectRoot: string, overrides: Partial<HandlerEntries> = {}): HandlerEntries {
  const entries = { ...DEFAULT_ENTRIES, ...overrides };
  const resolved = {} as Record<keyof HandlerEntries, string>;
  for (const key of Object.keys(DEFAULT_ENTRIES) as (keyof HandlerEntries)[]) {
    resolved[key] = checkEntry(projectRoot, key, entries[key]);
  }
  return resolved;
}

function checkEntry(projectRoot: string, key: keyof HandlerEntries, entry: string): string {
  const absolute = isAbsolute(entry) ? entry : resolve(projectRoot, entry);
  const rel = relative(projectRoot, absolute);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    // Images are built from the project root as context: a handler outside it could not be copied in.
    throw new InvalidArgumentError(`entries.${key} must be inside the project root ${projectRoot}, got '${entry}'`);
  }
  if (!existsSync(absolute)) {
    throw new InvalidArgumentError(
      `entries.${key}: handler file '${rel}' not found in ${projectRoot}; create it or pass entries.${key} (default '${DEFAULT_ENTRIES[key]}')`,
    );
  }
  return rel.split(sep).join('/');
}
