/**
 * Where a Pod can land: closed-world pool identity on the catalogue's keys, open keys decided by
 * live nodes (or not at all offline), spec.nodeName and matchFields, restriction by pool.
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EngineConfig, NodeFacts } from '../../src/engine/types.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { gpuSquatting } from '../../src/rules/gpu-squatting.js';
import { poolSelection } from '../../src/rules/pool-selection.js';
import { poolTolerations } from '../../src/rules/pool-tolerations.js';
import { analysisOf, config, cpuContainer, gpuToleration, podSpec, policy } from '../support/fixtures.js';
import { AFFINITY, expectOne, expectPass, expectSkipGuard, expr, failures, GKE, required } from './helpers.js';

const TYPE = 'node.kubernetes.io/instance-type';
const L4 = { [GKE]: 'nvidia-l4' };
const A100 = { [GKE]: 'nvidia-a100-80gb' };
const onlyL4 = (): NamespacePolicy => policy({ accelerators: { pools: ['l4'] } });
const gpu = (o: Partial<V1PodSpec> = {}): V1PodSpec => podSpec({ tolerations: [gpuToleration()], ...o });
const cpu = (o: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [cpuContainer()], ...o });
const node = (name: string, labels: Record<string, string>): NodeFacts => ({ name, labels, allocatable: {} });
const NODES = [
  node('l4-1', { ...L4, [TYPE]: 'g2-standard-8', zone: 'z1' }),
  node('a100-1', { ...A100, [TYPE]: 'a2-ultragpu-1g', zone: 'z1' }),
  node('cpu-1', { [TYPE]: 'e2-standard-4', zone: 'z1' }),
];
/** The fixture catalogue with a synced cluster view of NODES. */
function live(nodes: NodeFacts[] = NODES): EngineConfig {
  return { ...config(), cluster: { priorityClassExists: () => true, nodes: () => nodes, globalDefaultClass: () => undefined } };
}
const byName = (name: string, op = 'In'): V1PodSpec['affinity'] => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: op, values: [name] }] }] } },
});

describe('pool-selection: where a Pod can land', () => {
  it.each<[string, V1PodSpec, NamespacePolicy, EngineConfig?]>([
    ['L4 selected by its label in a namespace allowed L4', gpu({ nodeSelector: L4 }), onlyL4()],
    ['In [l4, a100] where both are allowed', gpu({ affinity: required([expr(GKE, 'In', ['nvidia-l4', 'nvidia-a100-80gb'])]) }), policy({ accelerators: { pools: ['l4', 'a100'] } })],
    ['an open key offline in an unrestricted namespace', gpu({ nodeSelector: { [TYPE]: 'g5.8xlarge' } }), policy()],
    ['an open key whose live nodes are all L4', gpu({ nodeSelector: { [TYPE]: 'g2-standard-8' } }), onlyL4(), live()],
    ['spec.nodeName onto a node of an allowed pool', podSpec({ nodeName: 'l4-1' }), onlyL4(), live()],
    ['matchFields metadata.name onto a node of an allowed pool', gpu({ affinity: byName('l4-1') }), onlyL4(), live()],
    ['a forbidden pool whose taints the Pod does not tolerate (pool-tolerations speaks)', podSpec({ affinity: required([expr(GKE, 'In', ['nvidia-l4', 'nvidia-a100-80gb'])]) }), onlyL4()],
  ])('allows %s', (_n, spec, pol, cfg) => {
    expectPass(poolSelection.check(analysisOf(spec, pol, cfg)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, EngineConfig | undefined, string, string[]]>([
    // Regression: a Pod selecting L4 where L4 is forbidden was admitted (the MIG pool "may match").
    ['L4 by its label in a namespace allowed only A100', gpu({ nodeSelector: L4 }), policy({ accelerators: { pools: ['a100'] } }), undefined,
      `spec.nodeSelector[${GKE}]`, ['pool l4 may not be used by namespace team (allowed pools: a100)']],
    ['a value no pool carries', gpu({ nodeSelector: { [GKE]: 'nvidia-b200' } }), policy(), undefined,
      `spec.nodeSelector[${GKE}]`, [`${GKE}=nvidia-b200 matches no GpuPool (pools: a100, l4, mig, mi300x)`]],
    ['In [allowed, forbidden]', gpu({ affinity: required([expr(GKE, 'In', ['nvidia-l4', 'nvidia-a100-80gb'])]) }), onlyL4(), undefined,
      `${AFFINITY}[0].matchExpressions[0]`, ['can reach pool a100, which namespace team may not use (it matches a100, l4)']],
    ['an ORed term on a forbidden pool', gpu({ affinity: required([expr(GKE, 'In', ['nvidia-l4'])], [expr(GKE, 'In', ['nvidia-a100-80gb'])]) }), onlyL4(), undefined,
      `${AFFINITY}[1].matchExpressions[0]`, ['can reach pool a100']],
    ['NotIn that leaves a forbidden pool', gpu({ affinity: required([expr(GKE, 'NotIn', ['nvidia-tesla-t4'])]) }), onlyL4(), undefined,
      `${AFFINITY}[0].matchExpressions[0]`, ['can reach pool a100']],
    // Without the mutating webhook (off, or failed open) nothing keeps the Pod off A100.
    ['no selection at all, tolerating the shared GPU taint', gpu(), onlyL4(), undefined, 'spec.nodeSelector', ['can reach pool a100']],
    ['an open key whose live nodes include a forbidden pool', gpu({ nodeSelector: { zone: 'z1' } }), onlyL4(), live(), 'spec.nodeSelector[zone]', ['can reach pool a100']],
    ['an open key whose live nodes are all of a forbidden pool', gpu({ nodeSelector: { [TYPE]: 'a2-ultragpu-1g' } }), onlyL4(), live(), `spec.nodeSelector[${TYPE}]`, ['pool a100 may not be used']],
    ['spec.nodeName onto a node of a forbidden pool', podSpec({ nodeName: 'a100-1' }), onlyL4(), live(), 'spec.nodeName', ['node a100-1 of pool a100, which namespace team may not use']],
    ['spec.nodeName onto a node of no pool', podSpec({ nodeName: 'cpu-1' }), onlyL4(), live(), 'spec.nodeName', ['node cpu-1, which belongs to no GpuPool']],
    ['matchFields metadata.name onto a node of a forbidden pool', gpu({ affinity: byName('a100-1') }), onlyL4(), live(), 'spec.affinity.nodeAffinity', ['pool a100 may not be used']],
  ])('denies %s', (_n, spec, pol, cfg, path, message) => {
    const f = expectOne(failures(poolSelection.check(analysisOf(spec, pol, cfg))), { ruleId: 'pool-selection', path, message });
    expect(f.advisory).toBeUndefined();
  });

  it.each<[string, V1PodSpec, NamespacePolicy, EngineConfig | undefined, string, string]>([
    ['spec.nodeName offline', podSpec({ nodeName: 'a100-1' }), onlyL4(), undefined, 'spec.nodeName', 'without a cluster view its pool cannot be told'],
    ['spec.nodeName the cluster view does not know', podSpec({ nodeName: 'gone' }), onlyL4(), live(), 'spec.nodeName', 'knows no node of that name'],
    ['an open key offline that may reach a forbidden pool', gpu({ nodeSelector: { [TYPE]: 'g5.8xlarge' } }), onlyL4(), undefined, `spec.nodeSelector[${TYPE}]`, `which pools ${TYPE}=g5.8xlarge reaches cannot be told`],
    ['an open key no live pool node carries (an autoscaler may add one)', gpu({ nodeSelector: { [TYPE]: 'g5.8xlarge' } }), onlyL4(), live(), `spec.nodeSelector[${TYPE}]`, 'cannot be told'],
  ])('warns, never denies, when it cannot be told: %s', (_n, spec, pol, cfg, path, message) => {
    const f = expectOne(failures(poolSelection.check(analysisOf(spec, pol, cfg))), { ruleId: 'pool-selection', path, message: [message] });
    expect(f.advisory).toBe(true);
  });

  it('skips a gated Pod (judged at the ungating UPDATE), and fails its twin without gates', () => {
    const spec = (o: Partial<V1PodSpec> = {}): V1PodSpec => gpu({ nodeSelector: L4, ...o });
    expectSkipGuard(poolSelection, analysisOf(spec({ schedulingGates: [{ name: 'q' }] }), policy({ accelerators: { pools: ['a100'] } })),
      analysisOf(spec(), policy({ accelerators: { pools: ['a100'] } })));
  });
});

describe('pool-tolerations and spec.nodeName', () => {
  it('skips a Pod bound by spec.nodeName (NoSchedule taints do not apply), and fails its twin without it', () => {
    expectSkipGuard(poolTolerations, analysisOf(podSpec({ nodeName: 'l4-1' }), onlyL4(), live()), analysisOf(podSpec(), onlyL4(), live()));
  });

  it('never suggests turning on mutations.tolerations when it is on', () => {
    const f = failures(poolTolerations.check(analysisOf(podSpec(), onlyL4())))[0];
    expect(f?.fix).not.toContain('turn on mutations.tolerations');
    const off = failures(poolTolerations.check(analysisOf(podSpec(), policy({ accelerators: { pools: ['l4'] }, mutations: { tolerations: false } }))))[0];
    expect(off?.fix).toContain('turn on mutations.tolerations');
  });
});

describe('gpu-squatting and spec.nodeName', () => {
  it('denies a CPU Pod named onto a GPU node (with a cluster view)', () => {
    expectOne(failures(gpuSquatting.check(analysisOf(cpu({ nodeName: 'a100-1' }), policy(), live()))), {
      ruleId: 'gpu-squatting', path: 'spec.nodeName',
      message: ['spec.nodeName binds it to node a100-1 of GPU pool a100', 'taints do not apply'],
      fix: ['add resources.limits["nvidia.com/gpu"]'],
    });
  });

  it.each<[string, V1PodSpec, EngineConfig | undefined]>([
    ['a CPU Pod named onto a CPU node', cpu({ nodeName: 'cpu-1' }), live()],
    ['a CPU Pod named onto a node offline (it cannot be told; tolerations and selection are judged)', cpu({ nodeName: 'a100-1' }), undefined],
  ])('allows %s', (_n, spec, cfg) => {
    expectPass(gpuSquatting.check(analysisOf(spec, policy(), cfg)));
  });

  it('regression: the fix for a toleration of the Gaudi pool suggests habana.ai/gaudi, not nvidia.com/gpu', () => {
    const gaudi = { name: 'gaudi', nodeLabels: { 'feature.node.kubernetes.io/pci-1da3.present': 'true' }, taints: [{ key: 'habana.ai/gaudi', effect: 'NoSchedule' as const }], resources: ['habana.ai/gaudi'] };
    const cfg = config([...config().pools, gaudi]);
    const f = failures(gpuSquatting.check(analysisOf(cpu({ tolerations: [{ key: 'habana.ai/gaudi', operator: 'Exists', effect: 'NoSchedule' }] }), policy(), cfg)));
    expect(f[0]?.message).toContain('of GPU pool gaudi');
    expect(f[0]?.fix).toContain('add resources.limits["habana.ai/gaudi"]');
  });

  it('names the pool the selector picks and suggests its resource, not the first pool with that taint', () => {
    const f = failures(gpuSquatting.check(analysisOf(cpu({ nodeSelector: L4, tolerations: [gpuToleration()] }))));
    expect(f[0]?.message).toContain('of GPU pool l4');
  });
});
