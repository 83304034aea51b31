import type { OutOfFold } from './probe.js';

export interface LabelIssue {
  row: number;
  given: number;
  suggested: number;
  /** 1 − the out-of-fold probability of the given label ("self-confidence"): higher is more suspicious. */
  score: number;
}

/**
 * Confident learning (Northcutt, Jiang & Chuang, 2021, "Confident Learning: Estimating Uncertainty in
 * Dataset Labels"; cleanlab's `find_label_issues` with `filter_by='confident_learning'`): class j's
 * threshold t_j is the mean out-of-fold probability of j over the rows labelled j; a row's confident
 * label is the most probable class whose probability reaches its threshold. Rows whose confident label
 * is not their given one are the off-diagonal of the confident joint: the label issues. They are ranked
 * by self-confidence (cleanlab's default `rank_by='self_confidence'`): lowest probability of the given
 * label first.
 */
export function confidentLearningIssues(oof: OutOfFold): LabelIssue[] {
  const { probs, labelIndex } = oof;
  const classes = oof.classes.length;
  const rows = labelIndex.length;
  const sum = new Float64Array(classes);
  const count = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    sum[labelIndex[r]!] += probs[r * classes + labelIndex[r]!]!;
    count[labelIndex[r]!] += 1;
  }
  const threshold = Array.from(sum, (s, j) => (count[j] ? s / count[j]! : Infinity));
  const issues: LabelIssue[] = [];
  for (let r = 0; r < rows; r++) {
    let confident = -1;
    for (let j = 0; j < classes; j++) {
      const p = probs[r * classes + j]!;
      if (p >= threshold[j]! && (confident < 0 || p > probs[r * classes + confident]!)) confident = j;
    }
    const given = labelIndex[r]!;
    if (confident >= 0 && confident !== given) issues.push({ row: r, given, suggested: confident, score: 1 - probs[r * classes + given]! });
  }
  return issues.sort((a, b) => b.score - a.score || a.row - b.row);
}
