import { describe, expect, it } from 'vitest';
import { expectedCalibrationError, fitTemperature, softmaxRows, temperatureLogLoss } from '../../../../src/heads/auto/calibration.js';
import { mulberry32 } from '../../../../src/heads/random.js';

/** 3 classes; the true class gets a logit margin drawn so the model is right ~70% of the time, then every logit is scaled ×4: overconfident. */
function overconfident(rows: number, seed = 1) {
  const random = mulberry32(seed);
  const logits = new Float32Array(rows * 3);
  const truth = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    truth[r] = r % 3;
    for (let c = 0; c < 3; c++) logits[r * 3 + c] = 4 * ((c === truth[r] ? 1 : 0) + 1.6 * (random() - 0.5) * 2);
  }
  return { logits, truth };
}

describe('temperature scaling', () => {
  it('lowers the expected calibration error of an overconfident model, without changing a single prediction', () => {
    const { logits, truth } = overconfident(3000);
    const temperature = fitTemperature(logits, truth, 3);
    expect(temperature).toBeGreaterThan(1.5);
    const before = softmaxRows(logits, 3);
    const after = softmaxRows(logits, 3, temperature);
    const eceBefore = expectedCalibrationError(before, truth, 3);
    const eceAfter = expectedCalibrationError(after, truth, 3);
    expect(eceBefore).toBeGreaterThan(0.1);
    expect(eceAfter).toBeLessThan(eceBefore / 3);
    const argmax = (p: Float32Array, r: number) => [0, 1, 2].reduce((b, c) => (p[r * 3 + c]! > p[r * 3 + b]! ? c : b), 0);
    for (let r = 0; r < truth.length; r++) expect(argmax(after, r)).toBe(argmax(before, r));
  });

  it('finds the minimum of the log-loss in T (no better temperature nearby)', () => {
    const { logits, truth } = overconfident(600, 2);
    const t = fitTemperature(logits, truth, 3);
    const at = temperatureLogLoss(logits, truth, 3, t);
    expect(at).toBeLessThanOrEqual(temperatureLogLoss(logits, truth, 3, t * 1.05));
    expect(at).toBeLessThanOrEqual(temperatureLogLoss(logits, truth, 3, t / 1.05));
  });

  it('computes ECE as the row-weighted |accuracy − confidence| over bins', () => {
    // Two rows at confidence 0.9, one right, one wrong: |0.5 − 0.9| = 0.4 over all rows.
    const probs = Float32Array.from([0.9, 0.1, 0.9, 0.1]);
    expect(expectedCalibrationError(probs, Int32Array.from([0, 1]), 2)).toBeCloseTo(0.4, 6);
  });
});
