import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';
import {
  headstartHome,
  importWeights,
  officialWeightsFile,
  pullWeights,
  readCacheEntry,
  weightsCacheDir,
  WeightsUnavailableError,
  type CachedWeights,
} from '../../src/weights/index.js';

/**
 * Real DenseNet121 ImageNet weights for the tests that need them, found in one order (test/fixtures/README.md):
 *   1. ../shared/models/densenet121 beside the checkout (this team's TF.js export; never copied into the project),
 *   2. the weights cache ($HEADSTART_HOME, else ~/.cache/headstart) holding densenet121/top,
 *   3. the official Keras file, pulled, md5-checked and converted into that cache, when the network allows.
 * Otherwise the tests skip and print what to place where. Every real-weights test goes through here.
 */
const MODEL = 'densenet121';

/** This team's TF.js export of DenseNet121 (Keras 2.1.4 layer names, per-group manifest). */
export const SHARED_DENSENET = resolve(import.meta.dirname, '../../../shared/models/densenet121');

/** How long the pull may wait for an answer: a closed network fails the lookup this fast at worst. */
const PULL_CONNECT_TIMEOUT_MS = 5000;

/** Something a test block needs; `reason` is set when it is missing and says how to provide it. */
export interface Requirement {
  reason?: string;
}

export interface RealWeights extends Requirement {
  /** Where the weights were found; undefined when they were not. */
  origin?: 'shared' | 'cache' | 'pulled';
  /** Puts the weights into `home`'s cache as densenet121/top, as `headstart weights import|pull` would there. */
  installInto(home: string): Promise<CachedWeights>;
}

let lookup: Promise<RealWeights> | undefined;

/** The real weights, looked up once per test file. */
export function realWeights(): Promise<RealWeights> {
  lookup ??= findRealWeights();
  return lookup;
}

async function findRealWeights(): Promise<RealWeights> {
  if (existsSync(join(SHARED_DENSENET, 'model.json'))) {
    return { origin: 'shared', installInto: (home) => importWeights(SHARED_DENSENET, { model: MODEL, home }) };
  }
  const home = headstartHome();
  const cached = await readCacheEntry(MODEL, 'top', home);
  if (cached) return fromCache('cache', cached);
  try {
    return fromCache('pulled', await pullWeights(MODEL, { home, connectTimeoutMs: PULL_CONNECT_TIMEOUT_MS }));
  } catch (error) {
    // A damaged download (WeightsIntegrityError) is a failure, not a reason to skip.
    if (!(error instanceof WeightsUnavailableError)) throw error;
    const reason = missingReason(home, error.message.split('\n')[0]!);
    return { reason, installInto: () => Promise.reject(new Error(reason)) };
  }
}

function fromCache(origin: 'cache' | 'pulled', entry: CachedWeights): RealWeights {
  return {
    origin,
    installInto: async (home) => {
      const dir = weightsCacheDir(MODEL, 'top', home);
      if (resolve(dir) === resolve(entry.dir)) return entry;
      await mkdir(dir, { recursive: true });
      // The index last: an entry exists when index.json does (src/weights/cache.ts).
      await copyFile(entry.weightsPath, join(dir, 'weights.bin'));
      await copyFile(join(entry.dir, 'index.json'), join(dir, 'index.json'));
      return { ...entry, dir, weightsPath: join(dir, 'weights.bin') };
    },
  };
}

function missingReason(home: string, pullFailure: string): string {
  const file = officialWeightsFile(MODEL, 'top').fileName;
  return [
    `no DenseNet121 ImageNet weights: ${SHARED_DENSENET} is absent, the cache ${weightsCacheDir(MODEL, 'top', home)} is empty, and the pull failed (${pullFailure})`,
    'To run these tests, fill the cache once (HEADSTART_HOME moves it):',
    `  npx headstart weights pull ${MODEL}                         (where the network allows)`,
    `  npx headstart weights import <path to ${file}> --model ${MODEL}   (the file fetched elsewhere)`,
  ].join('\n');
}

/** This team's TF.js export itself, for the tests of that format; only where ../shared is beside the checkout. */
export function sharedExport(): Requirement & { path: string } {
  if (existsSync(join(SHARED_DENSENET, 'model.json'))) return { path: SHARED_DENSENET };
  return {
    path: SHARED_DENSENET,
    reason: `${SHARED_DENSENET} is absent: these tests check this team's TF.js export of DenseNet121 (Keras 2.1.4 names, per-group manifest), which is not redistributable and has no download`,
  };
}

/** `describe`, or `describe.skip` with the reason printed (and named in the title) when the requirement is missing. */
export function describeWhen(need: Requirement, title: string, body: () => void): void {
  if (!need.reason) {
    describe(title, body);
    return;
  }
  console.warn(`skipped '${title}': ${need.reason}`);
  describe.skip(`${title} — skipped: ${need.reason.split(':')[0]}`, body);
}
