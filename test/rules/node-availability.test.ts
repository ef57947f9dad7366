import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EngineConfig, NodeFacts } from '../../src/engine/types.js';
import { nodeAvailability as rule } from '../../src/rules/node-availability.js';
import { analysisOf, config, cpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkipGuard, failures, GKE, limitOnly, partial } from './helpers.js';

const ID = 'node-availability';
const l4Node = (allocatable: Record<string, string> = { 'nvidia.com/gpu': '4' }): NodeFacts => ({ name: 'gpu-l4-1', labels: { [GKE]: 'nvidia-l4' }, allocatable });
const cpuNode = (): NodeFacts => ({ name: 'cpu-1', labels: { 'node.kubernetes.io/instance-type': 'n2-standard-8' }, allocatable: { cpu: '8' } });

/** A config with a live view of these nodes (undefined: nodes not synced). */
function live(nodes: NodeFacts[] | undefined): EngineConfig {
  return { ...config(), cluster: { nodes: () => nodes, priorityClassExists: () => undefined, globalDefaultClass: () => undefined } };
}

describe(ID, () => {
  it.each<[string, V1PodSpec, NodeFacts[]]>([
    ['an unconstrained GPU Pod and a node offering GPUs', podSpec(), [cpuNode(), l4Node()]],
    ['an L4 Pod and an L4 node', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } }), [l4Node()]],
  ])('allows %s', (_n, spec, nodes) => {
    expectPass(rule.check(analysisOf(spec, policy(), live(nodes))));
  });

  it.each<[string, V1PodSpec, EngineConfig, V1PodSpec, EngineConfig]>([
    ['offline (no cluster view)', podSpec(), config(), podSpec(), live([cpuNode()])],
    ['nodes not synced yet', podSpec(), live(undefined), podSpec(), live([cpuNode()])],
    ['a CPU Pod', { containers: [cpuContainer()] }, live([cpuNode()]), podSpec(), live([cpuNode()])],
    ['a gated Pod (the queue controller selects later)', podSpec({ schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }] }), live([cpuNode()]), podSpec(), live([cpuNode()])],
  ])('skips %s, and warns its twin without the skip reason', (_n, spec, cfg, twin, twinCfg) => {
    expectSkipGuard(rule, analysisOf(spec, policy(), cfg), analysisOf(twin, policy(), twinCfg));
  });

  it('skips a partial template, and warns the same spec when it is whole', () => {
    const a = analysisOf(podSpec(), policy(), live([cpuNode()]));
    expectSkipGuard(rule, partial(a), a);
  });

  it('warns (advisory) when no node offers the resource, naming the containers', () => {
    const f = expectOne(failures(rule.check(analysisOf(podSpec(), policy(), live([cpuNode()])))), {
      ruleId: ID, path: 'spec.containers', message: ['no node in the cluster offers nvidia.com/gpu', 'autoscaler'], fix: ['pools discover'],
    });
    expect(f.advisory).toBe(true);
  });

  it('warns when the selection matches only nodes without the resource, naming the selector', () => {
    expectOne(failures(rule.check(analysisOf(podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } }), policy(), live([l4Node({ 'nvidia.com/gpu': '0' })])))), {
      ruleId: ID, path: `spec.nodeSelector[${GKE}]`, message: ['matches the selection and offers nvidia.com/gpu'],
    });
  });

  it('warns when nodes offer the GPU but none of them matches the selection', () => {
    expectOne(failures(rule.check(analysisOf(podSpec({ nodeSelector: { [GKE]: 'nvidia-a100-80gb' } }), policy(), live([l4Node()])))), { ruleId: ID, path: `spec.nodeSelector[${GKE}]` });
  });

  it('asks for every resource of the Pod on one node', () => {
    const spec = podSpec({ containers: [limitOnly('main', '1', 'nvidia.com/gpu'), limitOnly('amd', '1', 'amd.com/gpu')] });
    expect(rule.check(analysisOf(spec, policy(), live([l4Node(), { name: 'amd-1', labels: {}, allocatable: { 'amd.com/gpu': '8' } }]))).status).toBe('fail');
  });
});
