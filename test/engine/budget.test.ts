/** Worst cases at the shape bounds are answered (and correctly); what is over the work budget gets a clear answer. */
import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { BUDGET_RULE, REVIEW_BUDGET_UNITS } from '../../src/engine/budget.js';
import type { ClusterFacts, NodeFacts } from '../../src/engine/types.js';
import { PolicyResolver } from '../../src/policy/resolve.js';
import { Metrics } from '../../src/server/metrics.js';
import { SHAPE_LIMITS } from '../../src/workload/shape.js';
import { config, createRequest, engine, gpuToleration, pod, podSpec, policy, policySet, pools } from '../support/fixtures.js';

const GKE = 'cloud.google.com/gke-accelerator';
const TERMS = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const terms = (list: unknown[]): V1PodSpec['affinity'] => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: list } } } as V1PodSpec['affinity']);
const selectorAtBound = (): Record<string, string> => ({ [GKE]: 'nvidia-l4', ...Object.fromEntries(many(SHAPE_LIMITS.nodeSelectorKeys - 1, (i) => [`k${i}`, `v${i}`])) });

function withNodes(n: number): Engine {
  const nodes: NodeFacts[] = many(n, (i) => ({ name: `n${i}`, labels: { [GKE]: 'nvidia-l4', zone: `z${i % 3}` }, allocatable: { 'nvidia.com/gpu': '1' } }));
  const cluster: ClusterFacts = { priorityClassExists: () => true, nodes: () => nodes, globalDefaultClass: () => undefined };
  const p = pools();
  return new Engine(new PolicyResolver(policySet([policy()], p)), { ...config(p), cluster });
}

describe('worst cases at the shape bounds', () => {
  it(`256 nodeSelector keys x ${SHAPE_LIMITS.nodeSelectorTerms} terms: judged, and a contradiction in every term is still found`, () => {
    const spec = podSpec({
      nodeSelector: selectorAtBound(),
      tolerations: [gpuToleration()],
      affinity: terms(many(SHAPE_LIMITS.nodeSelectorTerms, (t) => ({ matchExpressions: [{ key: 'k3', operator: 'In', values: ['v3'] }, { key: GKE, operator: 'In', values: [`nvidia-a100-${t}`] }] }))),
    });
    const v = engine().validate(createRequest(pod(spec)));
    expect(v.overBudget).toBeUndefined();
    const conflict = v.denials.find((d) => d.ruleId === 'node-selection');
    expect(conflict?.message).toContain(`spec.nodeSelector[${GKE}]`);
    expect(conflict?.message).toContain(`${TERMS}[0].matchExpressions[1]`);
  });

  it(`256 nodeSelector keys x ${SHAPE_LIMITS.nodeSelectorTerms} terms, one of them satisfiable: no contradiction`, () => {
    const spec = podSpec({
      nodeSelector: selectorAtBound(),
      tolerations: [gpuToleration()],
      affinity: terms(many(SHAPE_LIMITS.nodeSelectorTerms, (t) => ({ matchExpressions: [{ key: GKE, operator: 'In', values: [t === SHAPE_LIMITS.nodeSelectorTerms - 1 ? 'nvidia-l4' : `nvidia-a100-${t}`] }] }))),
    });
    const e = engine();
    const v = e.validate(createRequest(pod(spec)));
    expect(v.denials.filter((d) => d.ruleId === 'node-selection')).toEqual([]);
    expect(e.mutate(createRequest(pod(spec))).overBudget).toBeUndefined();
  });

  it(`${SHAPE_LIMITS.values} values in requirements of ${SHAPE_LIMITS.valuesPerRequirement} on one key: the empty intersection is found`, () => {
    const n = SHAPE_LIMITS.values / SHAPE_LIMITS.valuesPerRequirement;
    const spec = podSpec({
      tolerations: [gpuToleration()],
      affinity: terms([{ matchExpressions: many(n, (j) => ({ key: GKE, operator: 'In', values: many(SHAPE_LIMITS.valuesPerRequirement, (v) => `g${j}-${v}`) })) }]),
    });
    const v = engine().validate(createRequest(pod(spec)));
    expect(v.overBudget).toBeUndefined();
    expect(v.denials.map((d) => d.ruleId)).toContain('node-selection');
  });
});

describe('the review work budget', () => {
  // The most terms x 10 requirements against 20,000 live nodes: inside the shape bounds, over the budget.
  const heavy = (): V1PodSpec => podSpec({
    tolerations: [gpuToleration()],
    affinity: terms(many(SHAPE_LIMITS.nodeSelectorTerms, (t) => ({ matchExpressions: many(10, (j) => ({ key: `zone${j}`, operator: 'NotIn', values: [`z${t}`] })) }))),
  });

  it('validate: denied as too complex to judge, naming the field; the same answer every time', () => {
    const e = withNodes(20_000);
    const req = createRequest(pod(heavy()));
    const v = e.validate(req);
    expect(v.denials).toHaveLength(1);
    expect(v.denials[0]).toMatchObject({ ruleId: BUDGET_RULE, path: TERMS });
    expect(v.denials[0]?.message).toContain('too complex to judge');
    expect(v.denials[0]?.message).toContain(String(REVIEW_BUDGET_UNITS));
    expect(v.overBudget).toBe(TERMS);
    expect(e.validate(req)).toEqual(v);
  });

  it('validate on UPDATE: still denied when the old object was as complex (never filtered as already there)', () => {
    const e = withNodes(20_000);
    const v = e.validate({ ...createRequest(pod(heavy())), operation: 'UPDATE', oldObject: pod(heavy()) });
    expect(v.denials.map((d) => d.ruleId)).toEqual([BUDGET_RULE]);
  });

  it('mutate: allowed without a patch, with a warning', () => {
    const m = withNodes(20_000).mutate(createRequest(pod(heavy())));
    expect(m.patch).toEqual([]);
    expect(m.denials).toEqual([]);
    expect(m.warnings.map((w) => [w.ruleId, w.path, w.advisory])).toEqual([[BUDGET_RULE, TERMS, true]]);
  });

  it('the same Pod offline, and an ordinary Pod against 5,000 nodes, are within the budget', () => {
    expect(engine().validate(createRequest(pod(heavy()))).overBudget).toBeUndefined();
    const ordinary = podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, tolerations: [gpuToleration()] });
    const e = withNodes(20_000);
    expect(e.validate(createRequest(pod(ordinary))).overBudget).toBeUndefined();
    expect(e.mutate(createRequest(pod(ordinary))).overBudget).toBeUndefined();
  });

  it('is counted in gpu_admission_reviews_over_budget_total', async () => {
    const metrics = new Metrics(false);
    const v = withNodes(20_000).validate(createRequest(pod(heavy())));
    metrics.review('validate', 'CREATE', 'denied', v, 1);
    metrics.review('validate', 'CREATE', 'allowed', engine().validate(createRequest(pod(podSpec()))), 1);
    expect(await metrics.text()).toContain('gpu_admission_reviews_over_budget_total{endpoint="validate"} 1');
  });
});
