/**
 * What the API server does with an object on CREATE, without a cluster: the mutating webhook's
 * patch, applied as the API server applies it, then the validating webhook on the patched object.
 * Audit, `policy test` and onboarding verification all judge objects through this one function.
 */
import type { Engine, EngineRequest, Verdict } from '../engine/engine.js';
import type { Finding } from '../engine/types.js';
import { groupOf } from '../workload/kinds.js';
import { withoutNulls } from '../util/nulls.js';
import { applyLikeApiServer } from './patch.js';

export type SimulatedVerdict = 'denied' | 'warned' | 'allowed' | 'skipped';

export interface Simulation {
  verdict: SimulatedVerdict;
  /** Why nothing was judged, when nothing was. */
  skipped?: string;
  mutated: Verdict;
  /** The object after the mutating webhook's patch. */
  object: unknown;
  /** Absent when the mutating pass already skipped the object. */
  validated?: Verdict;
  /** The NamespacePolicy that governed it. */
  policy?: string;
  /** What a client sees as warnings: the mutating and the validating webhook's, without repeats. */
  warnings: Finding[];
}

function dedupe(fs: Finding[]): Finding[] {
  const seen = new Set<string>();
  return fs.filter((f) => {
    const k = `${f.ruleId}|${f.path}|${f.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/**
 * The request the API server would send for creating this object in `namespace`. Members written
 * as `null` are left out, as the API server's decoding drops them before any webhook sees the object.
 */
export function createRequest(written: Record<string, unknown>, namespace: string): EngineRequest {
  const object = withoutNulls(written);
  const meta = (object['metadata'] ?? {}) as { name?: unknown; generateName?: unknown };
  const name = typeof meta.name === 'string' && meta.name ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : undefined;
  const apiVersion = typeof object['apiVersion'] === 'string' ? object['apiVersion'] : '';
  const kind = typeof object['kind'] === 'string' ? object['kind'] : '';
  return { kind: { group: groupOf(apiVersion), kind }, operation: 'CREATE', namespace, name, object };
}

export function simulate(engine: Engine, req: EngineRequest): Simulation {
  const mutated = engine.mutate(req);
  if (mutated.skipped) return { verdict: 'skipped', skipped: mutated.skipped, policy: mutated.policy?.name, mutated, object: req.object, warnings: [] };
  const object = mutated.patch.length > 0 ? applyLikeApiServer(req.object, mutated.patch) : req.object;
  const validated = engine.validate({ ...req, object });
  const warnings = dedupe([...mutated.warnings, ...validated.warnings]);
  const verdict: SimulatedVerdict = validated.denials.length > 0 ? 'denied' : warnings.length > 0 ? 'warned' : 'allowed';
  return { verdict, policy: validated.policy?.name, mutated, object, validated, warnings };
}
