import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src/engine/backend.js';
import { resolveAutoSpec } from '../../../../src/heads/auto/spec.js';
import { trainAutoHead } from '../../../../src/heads/auto/select.js';
import { HeadSpecError } from '../../../../src/heads/errors.js';
import { predictHead } from '../../../../src/heads/predict.js';
import { deserializeHead, serializeHead } from '../../../../src/heads/serialize.js';
import type { SearchProgress } from '../../../../src/heads/auto/types.js';
import { expectNoLeak } from '../../../helpers/tf.js';
import { relativeDifference, separableData } from '../fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const LABELS = ['cat', 'dog', 'fox'];
/** Features far from zero mean and unit scale (offset 50, scale 20), as CNN activations are: standardization matters. */
function shifted(rowsPerLabel: number, seed = 1) {
  const data = separableData(rowsPerLabel, 12, LABELS, seed, 0.8);
  return { ...data, features: data.features.map((v, i) => 50 + (i % 12) * 3 + 20 * v) };
}
const FAST = { type: 'auto' as const, linearC: [0.01, 1], mlpUnits: [8] };

describe('trainAutoHead', () => {
  it('cross-validates every candidate, refits the winner on all rows, and says why it won, leaking no tensor', async () => {
    const data = shifted(20);
    const progress: SearchProgress[] = [];
    const head = await expectNoLeak(async () => {
      const trained = await trainAutoHead(data, FAST, { onProgress: (p) => void progress.push(p) });
      trained.model.dispose();
      return trained;
    });
    expect(head.selection.candidates.map((c) => c.name)).toEqual(['linear C=0.01', 'linear C=1', 'mlp 8']);
    for (const c of head.selection.candidates) {
      expect(c.folds).toHaveLength(5);
      expect(c.logLoss.mean).toBeGreaterThan(0);
      expect(c.logLoss.std).toBeGreaterThanOrEqual(0);
    }
    const best = Math.min(...head.selection.candidates.map((c) => c.logLoss.mean));
    expect(head.selection.candidates.find((c) => c.name === head.selection.chosen)!.logLoss.mean).toBe(best);
    expect(head.selection.reason).toContain('lowest mean out-of-fold log-loss');
    expect(head.selection.refit.rows).toBe(60);
    // Progress: candidate i of 3 for each of 5 folds, then the refit and the calibration.
    expect(progress.filter((p) => p.phase === 'cross-validation')).toHaveLength(15);
    expect(progress[0]).toEqual({ phase: 'cross-validation', candidate: 1, candidates: 3, name: 'linear C=0.01', fold: 1, folds: 5 });
    expect(progress.at(-2)).toMatchObject({ phase: 'refit', name: head.selection.chosen });
    expect(progress.at(-1)).toMatchObject({ phase: 'calibration' });
  });

  it('puts standardization and temperature inside the model: raw features in, the calibrated out-of-fold quality out, the same after save → load', async () => {
    const data = shifted(20);
    const head = await trainAutoHead(data, FAST);
    try {
      const probs = predictHead(head.model, data.features, data.dim);
      const correct = data.labels.filter((label, r) => head.labels[[0, 1, 2].reduce((b, c) => (probs[r * 3 + c]! > probs[r * 3 + b]! ? c : b), 0)] === label).length;
      expect(correct / data.labels.length).toBeGreaterThan(0.9);
      // The stored statistics are the training rows' own.
      expect(head.standardization.mean[0]).toBeGreaterThan(40);
      const { modelJson, weightsBin } = await serializeHead(head.model);
      const loaded = await deserializeHead(modelJson, weightsBin);
      const again = predictHead(loaded, data.features, data.dim);
      loaded.dispose();
      expect(Math.max(...again.map((p, i) => relativeDifference(p, probs[i]!)))).toBeLessThan(1e-5);
    } finally {
      head.model.dispose();
    }
  });

  it('keeps one out-of-fold prediction per training image, with the confusion matrix counting exactly those', async () => {
    const data = shifted(10);
    const head = await trainAutoHead(data, FAST);
    head.model.dispose();
    const { samples } = head.evaluation;
    expect(head.evaluation.source).toBe('out-of-fold');
    expect(samples.map((s) => s.key)).toEqual(data.keys);
    expect(samples.map((s) => s.label)).toEqual(data.labels);
    for (const s of samples) {
      expect(s.probabilities).toHaveLength(3);
      expect(s.probability).toBe(Math.max(...s.probabilities));
      expect(s.predicted).toBe(LABELS[s.probabilities.indexOf(s.probability)]);
      expect(s.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    const matrix = head.metrics.confusionMatrix;
    for (const [i, label] of LABELS.entries()) {
      for (const [j, predicted] of LABELS.entries()) {
        expect(matrix[i]![j]).toBe(samples.filter((s) => s.label === label && s.predicted === predicted).length);
      }
    }
    expect(head.metrics.accuracy).toBe(samples.filter((s) => s.label === s.predicted).length / samples.length);
    expect(head.calibration).toMatchObject({ method: 'temperature', bins: 15 });
    expect(head.calibration.temperature).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', async () => {
    const data = shifted(10);
    const a = await trainAutoHead(data, { ...FAST, mlpUnits: [] });
    const b = await trainAutoHead(data, { ...FAST, mlpUnits: [] });
    a.model.dispose();
    b.model.dispose();
    expect(b.selection.candidates.map((c) => c.logLoss.mean)).toEqual(a.selection.candidates.map((c) => c.logLoss.mean));
  });

  it('adapts to small data: 2 images in a label means 2 folds, said in the selection', async () => {
    const data = shifted(6);
    const keep = data.labels.map((label, i) => label !== 'fox' || i < 6);
    const small = {
      features: Float32Array.from(data.features.filter((_, i) => keep[Math.floor(i / 12)])),
      dim: 12,
      labels: data.labels.filter((_, i) => keep[i]),
    };
    expect(small.labels.filter((l) => l === 'fox')).toHaveLength(2);
    const head = await trainAutoHead(small, { ...FAST, mlpUnits: [] });
    head.model.dispose();
    expect(head.selection.folds).toMatchObject({ used: 2, requested: 5 });
    expect(head.selection.folds.note).toContain('2-fold instead of 5-fold');
  });

  it("balances class weights on request: the rare label's recall does not collapse", async () => {
    const data = shifted(40, 4);
    // 40 cats, 40 dogs, 6 foxes.
    let foxes = 0;
    const keep = data.labels.map((label) => label !== 'fox' || ++foxes <= 6);
    const skewed = {
      features: Float32Array.from(data.features.filter((_, i) => keep[Math.floor(i / 12)])),
      dim: 12,
      labels: data.labels.filter((_, i) => keep[i]),
    };
    const head = await trainAutoHead(skewed, { ...FAST, mlpUnits: [], classWeights: 'balanced' });
    head.model.dispose();
    expect(head.auto.classWeights).toBe('balanced');
    expect(head.metrics.perClass.fox!.recall).toBeGreaterThan(0.5);
  });
});

describe('resolveAutoSpec', () => {
  it("fills the defaults for 'auto' and rejects unknown or out-of-range fields with the valid values", () => {
    expect(resolveAutoSpec('auto')).toMatchObject({ type: 'auto', folds: 5, seed: 42, calibrate: true, classWeights: null });
    expect(() => resolveAutoSpec({ type: 'auto', fold: 3 } as never)).toThrow(HeadSpecError);
    expect(() => resolveAutoSpec({ type: 'auto', fold: 3 } as never)).toThrow(/Unknown field 'fold' of an auto head: expected 'type', 'folds'/);
    expect(() => resolveAutoSpec({ type: 'auto', folds: 1 })).toThrow('head.folds must be an integer from 2 to 20, got 1.');
    expect(() => resolveAutoSpec({ type: 'auto', linearC: [0] })).toThrow(/head.linearC must be/);
  });
});
