import { namespaceId, type FeatureNamespace } from '../features/namespace.js';
import { getHead, listHeads } from '../registry/index.js';
import type { ObjectStore } from '../store/index.js';
import type { IssueRows } from './find-issues.js';
import type { OutOfFold } from './probe.js';

/** A published head's out-of-fold predictions over a dataset's rows: what label-error detection needs, already paid for. */
export interface HeadOutOfFold {
  headId: string;
  oof: OutOfFold;
  /** The head's cross-validation folds. */
  folds: number;
}

/**
 * The out-of-fold probabilities of the newest head trained on exactly these rows: an auto head (its metrics keep
 * `evaluation: { source: 'out-of-fold', samples }`, one calibrated prediction per training image) on this dataset,
 * in this namespace, whose samples are the rows' keys with the rows' labels. A head trained before the dataset
 * changed, or without out-of-fold samples, does not count; undefined when none does (the caller runs its probe).
 */
export async function headOutOfFold(store: ObjectStore, ns: FeatureNamespace, dataset: string, rows: Pick<IssueRows, 'keys' | 'labels'>): Promise<HeadOutOfFold | undefined> {
  const namespace = namespaceId(ns);
  for (const summary of await listHeads(store)) {
    if (summary.dataset !== dataset || summary.namespace !== namespace) continue;
    const head = await getHead(store, summary.headId).catch((error: { code?: string }) => {
      if (error.code === 'HeadNotFound') return undefined; // deleted since the listing
      throw error;
    });
    const samples = head?.metrics.evaluation?.source === 'out-of-fold' ? head.metrics.evaluation.samples : undefined;
    if (!head || !samples || samples.length !== rows.keys.length) continue;
    const byKey = new Map(samples.map((s) => [s.key, s]));
    const classes = head.labels;
    const probs = new Float32Array(rows.keys.length * classes.length);
    const labelIndex = new Int32Array(rows.keys.length);
    const fits = rows.keys.every((key, r) => {
      const sample = byKey.get(key);
      const given = classes.indexOf(rows.labels[r]!);
      if (!sample || sample.label !== rows.labels[r] || given < 0 || sample.probabilities.length !== classes.length) return false;
      probs.set(sample.probabilities, r * classes.length);
      labelIndex[r] = given;
      return true;
    });
    if (!fits) continue;
    const folds = head.metrics.selection?.folds.used ?? head.training.auto?.folds ?? 0;
    return { headId: head.headId, oof: { classes: [...classes], probs, labelIndex, folds }, folds };
  }
  return undefined;
}
