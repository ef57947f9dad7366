/**
 * Kubernetes resource quantities (`1`, `500m`, `2Gi`, `1e3`), parsed to a number. Accelerator
 * counts are small integers, so a float is exact enough; the caller checks integrality.
 */
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** Returns the quantity's value, or undefined when the text is not a Kubernetes quantity. */
export function parseQuantity(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const m = QUANTITY.exec(raw.trim());
  if (!m) return undefined;
  const [, sign, digits, exponent, suffix] = m;
  let value = Number(digits);
  if (exponent) value *= 10 ** Number(exponent.slice(1));
  else value *= SUFFIX[suffix ?? ''] ?? 1;
  return sign === '-' ? -value : value;
}

export function isPositiveInteger(value: number | undefined): value is number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0;
}
