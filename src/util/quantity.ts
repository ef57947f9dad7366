/**
 * Kubernetes resource quantities (`1`, `500m`, `2Gi`, `1e3`), parsed to a number. Accelerator
 * counts are small integers, so a float is exact enough; the caller checks integrality.
 */
// Decimal scales are applied as exponents in the text, so `0.07e2` and `7000m` parse to exactly 7.
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** Returns the quantity's value, or undefined when the text is not a Kubernetes quantity. */
export function parseQuantity(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const m = QUANTITY.exec(raw.trim());
  if (!m) return undefined;
  const [, sign, digits, exponent, suffix] = m;
  const scale = exponent ? Number(exponent.slice(1)) : DECIMAL[suffix ?? ''];
  const value = scale !== undefined ? Number(`${digits}e${scale}`) : Number(digits) * (BINARY[suffix ?? ''] ?? 1);
  return sign === '-' ? -value : value;
}

export function isPositiveInteger(value: number | undefined): value is number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0;
}
