/**
 * Limited-memory BFGS for smooth convex objectives (the linear head's L2-regularized softmax loss), as
 * scikit-learn's 'lbfgs' solver runs it: a few hundred iterations at most, each one function + gradient
 * evaluation (plus the line search's extra ones, rarely more than one on these problems).
 * Nocedal & Wright, Numerical Optimization, algorithm 7.4 (two-loop recursion) with a backtracking
 * Armijo line search; parameters and vectors in float64.
 */

/** Value and gradient at `x`; the gradient is written into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Stop when max |gradient| is at most this. */
  gradientTolerance: number;
  /** @default 100 (scikit-learn's max_iter) */
  maxIterations?: number;
  /** Correction pairs kept. @default 10 */
  memory?: number;
}

export interface LbfgsResult {
  value: number;
  iterations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Minimizes `objective` starting from `x` (updated in place to the minimizer found). */
export function minimizeLbfgs(objective: Objective, x: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x.length;
  const maxIterations = options.maxIterations ?? 100;
  const memory = options.memory ?? 10;
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const grad = new Float64Array(n);
  const nextGrad = new Float64Array(n);
  const next = new Float64Array(n);
  const direction = new Float64Array(n);
  const alpha = new Float64Array(memory);
  let value = objective(x, grad);
  let iterations = 0;
  while (iterations < maxIterations) {
    if (maxAbs(grad) <= options.gradientTolerance) return { value, iterations, converged: true };
    // Two-loop recursion: direction = −H·grad.
    direction.set(grad);
    for (let i = s.length - 1; i >= 0; i--) {
      alpha[i] = rho[i] * dot(s[i], direction);
      for (let j = 0; j < n; j++) direction[j] -= alpha[i] * y[i][j];
    }
    const gamma = s.length ? dot(s[s.length - 1], y[y.length - 1]) / dot(y[y.length - 1], y[y.length - 1]) : 1 / Math.max(1e-12, Math.sqrt(dot(grad, grad)));
    for (let j = 0; j < n; j++) direction[j] *= gamma;
    for (let i = 0; i < s.length; i++) {
      const beta = rho[i] * dot(y[i], direction);
      for (let j = 0; j < n; j++) direction[j] += s[i][j] * (alpha[i] - beta);
    }
    for (let j = 0; j < n; j++) direction[j] = -direction[j];
    let slope = dot(grad, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      s.length = y.length = rho.length = 0;
      for (let j = 0; j < n; j++) direction[j] = -grad[j] / Math.max(1e-12, Math.sqrt(dot(grad, grad)));
      slope = dot(grad, direction);
    }
    // Backtracking until the Armijo condition holds.
    let step = 1;
    let nextValue = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let j = 0; j < n; j++) next[j] = x[j] + step * direction[j];
      nextValue = objective(next, nextGrad);
      if (Number.isFinite(nextValue) && nextValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    iterations++;
    if (!(nextValue < value)) return { value, iterations, converged: false };
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      sk[j] = next[j] - x[j];
      yk[j] = nextGrad[j] - grad[j];
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === memory) (s.shift(), y.shift(), rho.shift());
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const decrease = value - nextValue;
    x.set(next);
    grad.set(nextGrad);
    value = nextValue;
    if (decrease <= 1e-12 * Math.max(1, Math.abs(value))) return { value, iterations, converged: maxAbs(grad) <= options.gradientTolerance };
  }
  return { value, iterations, converged: maxAbs(grad) <= options.gradientTolerance };
}
