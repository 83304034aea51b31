import type { HeadActivation } from '../types.js';

/** f(z) and f'(z) (given z and y = f(z)), matching the TF.js definitions the saved model will run. */
export interface JsActivation {
  forward(z: number): number;
  derivative(z: number, y: number): number;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the approximation TF.js' Erf kernel uses. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-ax * ax));
}

export const JS_ACTIVATIONS: Record<HeadActivation, JsActivation> = {
  relu: { forward: (z) => (z > 0 ? z : 0), derivative: (z) => (z > 0 ? 1 : 0) },
  relu6: { forward: (z) => (z > 0 ? (z < 6 ? z : 6) : 0), derivative: (z) => (z > 0 && z < 6 ? 1 : 0) },
  elu: { forward: (z) => (z > 0 ? z : Math.expm1(z)), derivative: (z, y) => (z > 0 ? 1 : y + 1) },
  selu: {
    forward: (z) => SELU_SCALE * (z > 0 ? z : SELU_ALPHA * Math.expm1(z)),
    derivative: (z) => (z > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(z)),
  },
  // The exact (erf) GELU, TF.js' 'gelu': z·Φ(z); Φ' is the normal density.
  gelu: {
    forward: (z) => 0.5 * z * (1 + erf(z * INV_SQRT_2)),
    derivative: (z) => 0.5 * (1 + erf(z * INV_SQRT_2)) + z * INV_SQRT_2PI * Math.exp(-0.5 * z * z),
  },
  swish: {
    forward: (z) => z * sigmoid(z),
    derivative: (z) => {
      const s = sigmoid(z);
      return s + z * s * (1 - s);
    },
  },
  tanh: { forward: Math.tanh, derivative: (_z, y) => 1 - y * y },
  sigmoid: { forward: sigmoid, derivative: (_z, y) => y * (1 - y) },
  softplus: { forward: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))), derivative: sigmoid },
  linear: { forward: (z) => z, derivative: () => 1 },
};
