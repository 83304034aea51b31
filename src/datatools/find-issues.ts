import { confidentLearningIssues } from './confident.js';
import { defaultFolds, outOfFoldProbabilities, type OutOfFold } from './probe.js';
import { nearestNeighbourTable, normalizeRows } from './vectors.js';

/**
 * Cosine on the service's pooled CNN features above which two different files are "near-identical".
 * Measured on fashion-mnist-small with DenseNet121 avg_pool features (test/integration/datatools-densenet
 * prints the distribution): distinct images' nearest-neighbour cosines reach about 0.97 (sneakers and
 * sandals look alike at 28×28), an image re-encoded or shifted by a pixel stays above 0.99.
 */
export const NEAR_DUPLICATE_COSINE = 0.99;
/** Neighbours per image behind the outlier score: the mean cosine to the 5 nearest. */
export const OUTLIER_NEIGHBOURS = 5;
/** Tukey's fence: an outlier scores above Q3 + 1.5 × IQR of the dataset's scores. */
const TUKEY = 1.5;

/** One image of a dataset as the issue finders see it. */
export interface IssueRows {
  keys: string[];
  labels: string[];
  /** Content hash per image (byte-identical files share it). */
  sha256: string[];
  features: Float32Array;
  dim: number;
}

export interface DuplicateGroup {
  keys: string[];
  /** The weakest cosine that links the group (1 for byte-identical files). */
  score: number;
  /** 'identical': every file has the same bytes; 'near': some differ but look the same to the model. */
  kind: 'identical' | 'near';
}

export interface Leak {
  key: string;
  otherKey: string;
  score: number;
  kind: 'identical' | 'near';
}

export interface LabelIssueEntry {
  key: string;
  givenLabel: string;
  suggestedLabel: string;
  score: number;
}

export interface Outlier {
  key: string;
  label: string;
  /** 1 − the mean cosine to its nearest images. */
  score: number;
}

export interface FoundIssues {
  duplicates: DuplicateGroup[];
  leakage: Leak[];
  labelIssues: LabelIssueEntry[];
  outliers: Outlier[];
  /** Why a list is empty by construction (e.g. one label: no label issues). */
  notes: string[];
}

export interface FindIssuesOptions {
  /** Another dataset to check for leakage (e.g. the test set against train). */
  against?: IssueRows;
  nearDuplicate?: number;
  /** Out-of-fold probabilities already at hand (a head's cross-validation): the probe does not run. */
  outOfFold?: OutOfFold;
  folds?: number;
  seed?: number;
}

/** Float32 rounding can put a cosine a hair above 1. */
const cosine = (score: number): number => Math.min(1, score);

/** At equal scores a byte-identical finding ranks before a near one. */
const byKind = (a: { kind: string }, b: { kind: string }): number => (a.kind === b.kind ? 0 : a.kind === 'identical' ? -1 : 1);

/** Union-find over rows, for duplicate groups. */
function groups(n: number): { union(a: number, b: number): void; find(a: number): number } {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]!]!;
    return a;
  };
  return { find, union: (a, b) => void (parent[find(a)] = find(b)) };
}

function findDuplicates(rows: IssueRows, table: ReturnType<typeof nearestNeighbourTable>, threshold: number): DuplicateGroup[] {
  const n = rows.keys.length;
  const sets = groups(n);
  const weakest = new Map<number, number>();
  const bySha = new Map<string, number>();
  rows.sha256.forEach((sha, r) => {
    const first = bySha.get(sha);
    if (first === undefined) bySha.set(sha, r);
    else sets.union(r, first);
  });
  const links: Array<[number, number, number]> = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < table.k; c++) {
      const score = table.score[r * table.k + c]!;
      if (score < threshold) break;
      const other = table.index[r * table.k + c]!;
      if (rows.sha256[other] === rows.sha256[r]) continue;
      links.push([r, other, score]);
      sets.union(r, other);
    }
  }
  for (const [r, , score] of links) {
    const root = sets.find(r);
    weakest.set(root, Math.min(weakest.get(root) ?? 1, cosine(score)));
  }
  const members = new Map<number, number[]>();
  for (let r = 0; r < n; r++) {
    const root = sets.find(r);
    members.set(root, [...(members.get(root) ?? []), r]);
  }
  const out: DuplicateGroup[] = [];
  for (const [root, group] of members) {
    if (group.length < 2) continue;
    const identical = group.every((r) => rows.sha256[r] === rows.sha256[group[0]!]);
    out.push({ keys: group.map((r) => rows.keys[r]!).sort(), score: identical ? 1 : weakest.get(root)!, kind: identical ? 'identical' : 'near' });
  }
  return out.sort((a, b) => b.score - a.score || byKind(a, b) || b.keys.length - a.keys.length || (a.keys[0]! < b.keys[0]! ? -1 : 1));
}

function findLeakage(rows: IssueRows, unit: Float32Array, other: IssueRows, threshold: number): Leak[] {
  const otherBySha = new Map(other.sha256.map((sha, r) => [sha, r]));
  const table = nearestNeighbourTable(unit, normalizeRows(other.features, other.dim), rows.dim, 1);
  const out: Leak[] = [];
  rows.keys.forEach((key, r) => {
    const same = otherBySha.get(rows.sha256[r]!);
    if (same !== undefined) out.push({ key, otherKey: other.keys[same]!, score: 1, kind: 'identical' });
    else if (table.k && table.score[r]! >= threshold) out.push({ key, otherKey: other.keys[table.index[r]!]!, score: cosine(table.score[r]!), kind: 'near' });
  });
  return out.sort((a, b) => b.score - a.score || byKind(a, b) || (a.key < b.key ? -1 : 1));
}

function findOutliers(rows: IssueRows, table: ReturnType<typeof nearestNeighbourTable>): Outlier[] {
  if (table.k === 0) return [];
  const scores = rows.keys.map((_, r) => {
    let sum = 0;
    for (let c = 0; c < table.k; c++) sum += table.score[r * table.k + c]!;
    return 1 - sum / table.k;
  });
  const sorted = [...scores].sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
  const fence = quantile(0.75) + TUKEY * (quantile(0.75) - quantile(0.25));
  return rows.keys
    .map((key, r) => ({ key, label: rows.labels[r]!, score: scores[r]! }))
    .filter((o) => o.score > fence)
    .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1));
}

/**
 * Everything suspicious about a dataset from its cached features alone: duplicate files (same bytes, or
 * a cosine ≥ `nearDuplicate`), images that also appear in `against` (leakage), labels that out-of-fold
 * predictions (`outOfFold`, else a k-fold linear probe's) confidently disagree with (confident learning),
 * and images far from all others (outliers).
 * Each list is sorted most suspicious first.
 */
export async function findIssues(rows: IssueRows, options: FindIssuesOptions = {}): Promise<FoundIssues> {
  const threshold = options.nearDuplicate ?? NEAR_DUPLICATE_COSINE;
  const folds = options.folds ?? defaultFolds(rows.keys.length);
  const notes: string[] = [];
  const unit = normalizeRows(rows.features, rows.dim);
  // Enough neighbours for the outlier score and to chain a duplicate group of a few near copies.
  const table = nearestNeighbourTable(unit, unit, rows.dim, Math.max(OUTLIER_NEIGHBOURS, 10), true);
  const outlierTable = { ...table, k: Math.min(table.k, OUTLIER_NEIGHBOURS) };
  const outlierIndex = new Int32Array(rows.keys.length * outlierTable.k);
  const outlierScore = new Float32Array(rows.keys.length * outlierTable.k);
  for (let r = 0; r < rows.keys.length; r++) {
    outlierIndex.set(table.index.subarray(r * table.k, r * table.k + outlierTable.k), r * outlierTable.k);
    outlierScore.set(table.score.subarray(r * table.k, r * table.k + outlierTable.k), r * outlierTable.k);
  }
  let labelIssues: LabelIssueEntry[] = [];
  const counts = new Map<string, number>();
  for (const label of rows.labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  if (counts.size < 2) {
    notes.push(`labelIssues: the dataset has ${counts.size} label; confident learning needs at least 2.`);
  } else if (!options.outOfFold && rows.keys.length < 2 * folds) {
    notes.push(`labelIssues: ${rows.keys.length} images are too few for a ${folds}-fold probe (at least ${2 * folds}).`);
  } else {
    const oof = options.outOfFold ?? (await outOfFoldProbabilities(rows.features, rows.dim, rows.labels, { folds, seed: options.seed }));
    labelIssues = confidentLearningIssues(oof).map((i) => ({
      key: rows.keys[i.row]!,
      givenLabel: oof.classes[i.given]!,
      suggestedLabel: oof.classes[i.suggested]!,
      score: i.score,
    }));
  }
  return {
    duplicates: findDuplicates(rows, table, threshold),
    leakage: options.against ? findLeakage(rows, unit, options.against, threshold) : [],
    labelIssues,
    outliers: findOutliers(rows, { k: outlierTable.k, index: outlierIndex, score: outlierScore }),
    notes,
  };
}
