/**
 * A CEL harness for the generated ValidatingAdmissionPolicies: @marcbachmann/cel-js with the
 * Kubernetes library functions the floor uses, implemented as the Kubernetes docs define them
 * (kubernetes.io/docs/reference/using-api/cel/, "Kubernetes quantity library" and "Kubernetes list
 * library"; k8s.io/apiserver/pkg/cel/library/quantity.go):
 *   isQuantity(string) bool        the string parses as a resource.Quantity (no surrounding spaces)
 *   quantity(string) Quantity      error when it does not parse
 *   Quantity.isInteger() bool      representable as an int64 without loss
 *   Quantity.asInteger() int       error when not isInteger()
 *   Quantity.compareTo(Quantity)   -1, 0, 1
 *   list(int).sum() int            0 for the empty list
 * RE2's `(?i)` prefix, which JavaScript regular expressions do not take inline, becomes the `i` flag.
 * The evaluation follows the API server: matchConditions first (all true, or the policy is not
 * evaluated), variables in order, then every validation (false = a violation).
 */
import { Environment } from '@marcbachmann/cel-js';
import type { ValidatingAdmissionPolicy } from '../../src/vap/floor.js';

export class Quantity {
  /** value = num / den, exactly. */
  constructor(readonly num: bigint, readonly den: bigint) {}
}

// k8s.io/apimachinery/pkg/api/resource: <sign><digits>[.<digits>][<binarySI>|<decimalSI>|e<signed int>]
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export function parseK8sQuantity(s: string): Quantity | undefined {
  const m = QUANTITY.exec(s);
  if (!m) return undefined;
  const [, sign, digits = '', exponent, suffix = ''] = m;
  const [whole = '', frac = ''] = digits.split('.');
  let num = BigInt(`${whole || '0'}${frac}`);
  let den = 10n ** BigInt(frac.length);
  const exp10 = exponent ? Number(exponent.slice(1)) : BINARY[suffix] === undefined ? (DECIMAL[suffix] ?? 0) : 0;
  if (Math.abs(exp10) > 1000) return undefined;
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den *= 10n ** BigInt(-exp10);
  if (BINARY[suffix] !== undefined) num *= 2n ** BigInt(BINARY[suffix] as number);
  if (sign === '-') num = -num;
  return new Quantity(num, den);
}

const isInteger = (q: Quantity): boolean => q.num % q.den === 0n && q.num / q.den <= INT64_MAX && q.num / q.den >= INT64_MIN;

function quantityEnv(): Environment {
  return new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
    .registerType('Quantity', Quantity)
    .registerFunction('isQuantity(string): bool', (s: string) => parseK8sQuantity(s) !== undefined)
    .registerFunction('quantity(string): Quantity', (s: string) => {
      const q = parseK8sQuantity(s);
      if (!q) throw new Error(`quantity: ${JSON.stringify(s)} is not a quantity`);
      return q;
    })
    .registerFunction('Quantity.isInteger(): bool', (q: Quantity) => isInteger(q))
    .registerFunction('Quantity.asInteger(): int', (q: Quantity) => {
      if (!isInteger(q)) throw new Error('asInteger: not an integer');
      return q.num / q.den;
    })
    .registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) => {
      const l = a.num * b.den;
      const r = b.num * a.den;
      return l < r ? -1n : l > r ? 1n : 0n;
    })
    .registerFunction('list.sum(): int', (xs: unknown[]) => xs.reduce<bigint>((n, x) => n + (x as bigint), 0n))
    .registerFunction('string.matchesCI(string): bool', (s: string, re: string) => new RegExp(re, 'i').test(s));
}

export const env = quantityEnv();

/** The expression as the harness runs it: RE2 `(?i)` prefixes become the case-insensitive variant. */
export function harnessText(expression: string): string {
  return expression.replace(/\.matches\('\(\?i\)/g, ".matchesCI('");
}

type Program = (ctx: Record<string, unknown>) => unknown;
const compiled = new Map<string, Program>();

export function compile(expression: string): Program {
  let p = compiled.get(expression);
  if (!p) {
    p = env.parse(harnessText(expression)) as unknown as Program;
    compiled.set(expression, p);
  }
  return p;
}

export interface Admission {
  object: unknown;
  namespaceObject: { metadata: { name: string; labels: Record<string, string> } };
  request: { operation: string; namespace: string; userInfo: { username: string; groups?: string[] } };
}

export interface VapResult {
  /** matchConditions all true. */
  matched: boolean;
  /** Indices of the validations that evaluated to false. */
  failed: number[];
  /** Indices of validations (or variables / conditions, as -1) whose evaluation raised an error. */
  errors: { index: number; error: string }[];
}

/** Evaluates a ValidatingAdmissionPolicy on one admission as the API server does. */
export function evaluateVap(vap: ValidatingAdmissionPolicy, a: Admission): VapResult {
  const base = { object: a.object, oldObject: null, request: a.request, namespaceObject: a.namespaceObject };
  const errors: VapResult['errors'] = [];
  for (const c of vap.spec.matchConditions) {
    try {
      if (compile(c.expression)(base) !== true) return { matched: false, failed: [], errors };
    } catch (err) {
      errors.push({ index: -1, error: `matchCondition ${c.name}: ${(err as Error).message}` });
      return { matched: false, failed: [], errors };
    }
  }
  const variables: Record<string, unknown> = {};
  const ctx = { ...base, variables };
  for (const v of vap.spec.variables) {
    try {
      variables[v.name] = compile(v.expression)(ctx);
    } catch (err) {
      errors.push({ index: -1, error: `variable ${v.name}: ${(err as Error).message}` });
      return { matched: true, failed: [], errors };
    }
  }
  const failed: number[] = [];
  vap.spec.validations.forEach((v, i) => {
    try {
      const r = compile(v.expression)(ctx);
      if (r !== true) failed.push(i);
    } catch (err) {
      errors.push({ index: i, error: (err as Error).message });
    }
  });
  return { matched: true, failed, errors };
}
