/**
 * Templates of operators are not final Pods: a requirement the kind's operator fills in the Pods it
 * creates (the `fills` of the kind table) is an advisory naming the operator's default, not a
 * denial. A container or Pod spec the operator does not fill is judged as before.
 */
import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { workloadKind, WORKLOAD_KINDS } from '../../src/workload/kinds.js';
import { engine, policy } from '../support/fixtures.js';

const strict = (): Engine => engine([policy({ requirements: { readinessProbe: true, memoryLimit: true, cpuRequest: true }, startupProbe: { minBudgetSeconds: 900 } })]);
const relaxed = (): Engine => engine([policy()]);

/** A GPU container without probes, with memory and CPU (KubeRay fills probes only). */
const rayGpu = (name = 'ray-worker'): V1Container => ({ name, image: 'rayproject/ray:2.41.0-gpu', resources: { limits: { 'nvidia.com/gpu': '1', memory: '32Gi', cpu: '8' } } });
const TOLERATE = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
const template = (c: V1Container, more: V1Container[] = []): Record<string, unknown> => ({ spec: { containers: [c, ...more], tolerations: TOLERATE } });

function rayCluster(worker: V1Container, more: V1Container[] = []): Record<string, unknown> {
  return {
    apiVersion: 'ray.io/v1', kind: 'RayCluster', metadata: { name: 'rc', namespace: 'team' },
    spec: {
      headGroupSpec: { rayStartParams: {}, template: { spec: { containers: [{ name: 'ray-head', image: 'rayproject/ray:2.41.0', resources: { limits: { cpu: '2', memory: '8Gi' } } }] } } },
      workerGroupSpecs: [{ groupName: 'gpu', replicas: 2, rayStartParams: {}, template: template(worker, more) }],
    },
  };
}

function rayJobWithGpuSubmitter(): Record<string, unknown> {
  const cluster = rayCluster(rayGpu())['spec'];
  return { apiVersion: 'ray.io/v1', kind: 'RayJob', metadata: { name: 'rj', namespace: 'team' }, spec: { entrypoint: 'python x.py', rayClusterSpec: cluster, submitterPodTemplate: template(rayGpu('submitter')) } };
}

function isvc(model: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'llm', namespace: 'team' }, spec: { predictor: { model, tolerations: TOLERATE } } };
}

function llmisvc(containers: V1Container[]): Record<string, unknown> {
  return { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'LLMInferenceService', metadata: { name: 'llm', namespace: 'team' }, spec: { model: { uri: 'hf://x/y' }, template: { containers, tolerations: TOLERATE } } };
}

const req = (object: Record<string, unknown>) => {
  const [group, ] = String(object['apiVersion']).split('/');
  return { kind: { group: String(object['apiVersion']).includes('/') ? group as string : '', kind: String(object['kind']) }, operation: 'CREATE' as const, namespace: 'team', name: 'x', object };
};
const denials = (e: Engine, o: Record<string, unknown>): string[] => e.validate(req(o)).denials.map((f) => `${f.ruleId}@${f.path}`);
const warnings = (e: Engine, o: Record<string, unknown>, rule: string): string[] => e.validate(req(o)).warnings.filter((f) => f.ruleId === rule).map((f) => f.message);

describe('the kind table records what operators fill, with a source', () => {
  it.each(WORKLOAD_KINDS.filter((k) => k.fills).map((k) => [`${k.group}/${k.kind}`, k] as const))('%s', (_key, k) => {
    const f = k.fills!;
    for (const d of [f.readinessProbe, f.livenessProbe, f.memoryLimit, f.cpuRequest]) if (d) expect(d.source).toMatch(/\//);
  });

  it('KubeRay fills the Ray containers of head and workers, not the RayJob submitter', () => {
    const targets = findPodSpecs({ group: 'ray.io', kind: 'RayJob' }, rayJobWithGpuSubmitter());
    expect(targets.map((t) => [t.path, t.fills?.operator])).toEqual([
      ['spec.rayClusterSpec.headGroupSpec.template.spec', 'KubeRay'],
      ['spec.rayClusterSpec.workerGroupSpecs[0].template.spec', 'KubeRay'],
      ['spec.submitterPodTemplate.spec', undefined],
    ]);
    expect(workloadKind({ group: 'ray.io', kind: 'RayCluster' })?.fills?.livenessProbe?.budgetSeconds).toBe(630);
  });
});

describe('container-resources: requirements the operator fills', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a KubeRay RayCluster with GPU workers and no probes', rayCluster(rayGpu())],
    ['a RayJob whose Ray workers have no probes', { ...rayJobWithGpuSubmitter(), spec: { ...(rayJobWithGpuSubmitter()['spec'] as object), submitterPodTemplate: undefined } }],
    ['a KServe model without memory limit or CPU request', isvc({ modelFormat: { name: 'huggingface' }, resources: { limits: { 'nvidia.com/gpu': '1' } } })],
    ['an LLMInferenceService container main without readinessProbe', llmisvc([{ name: 'main', resources: { limits: { 'nvidia.com/gpu': '1', memory: '64Gi', cpu: '8' } } }])],
  ])('allows %s (advisory naming the operator)', (_n, o) => {
    expect(denials(strict(), o)).toEqual([]);
    expect(warnings(strict(), o, 'container-resources').length).toBeGreaterThan(0);
    for (const m of warnings(strict(), o, 'container-resources')) expect(m).toMatch(/(KubeRay|KServe) adds .* to its Pods \(judged when created\)/);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a GPU container of a Ray worker that is not the Ray container (index 1)', rayCluster({ name: 'ray-worker', image: 'r', resources: { limits: { cpu: '1', memory: '1Gi' } } }, [rayGpu('sidecar')]),
      'container-resources@spec.workerGroupSpecs[0].template.spec.containers[1].readinessProbe'],
    ['a RayJob submitter Pod with GPUs (no Ray container: KubeRay adds nothing)', rayJobWithGpuSubmitter(), 'container-resources@spec.submitterPodTemplate.spec.containers[0].readinessProbe'],
    ['a Deployment with the same container (no operator)', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: template(rayGpu()) } },
      'container-resources@spec.template.spec.containers[0].readinessProbe'],
    ['an LLMInferenceService GPU container not named main', llmisvc([{ name: 'server', resources: { limits: { 'nvidia.com/gpu': '1', memory: '64Gi', cpu: '8' } } }]),
      'container-resources@spec.template.containers[0].readinessProbe'],
  ])('denies %s', (_n, o, expected) => {
    expect(denials(strict(), o)).toContain(expected);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a RayCluster under a policy that requires nothing', rayCluster(rayGpu())],
    ['a KServe model under a policy that requires nothing', isvc({ modelFormat: { name: 'huggingface' }, resources: { limits: { 'nvidia.com/gpu': '1' } } })],
  ])('skips %s: no finding at all', (_n, o) => {
    const v = relaxed().validate(req(o));
    expect([...v.denials, ...v.warnings].filter((f) => f.ruleId === 'container-resources')).toEqual([]);
  });
});

describe('startup-budget: a liveness probe the operator injects', () => {
  it('warns that KubeRay\'s injected liveness probe gives 630 s where the policy wants 900 s', () => {
    const [m] = warnings(strict(), rayCluster(rayGpu()), 'startup-budget');
    expect(m).toMatch(/no probe, but KubeRay gives its Pods .*10m30s|630/);
  });

  it('says nothing when the operator\'s budget covers the policy (LLMInferenceService: 610 s >= 600 s)', () => {
    const e = engine([policy({ startupProbe: { minBudgetSeconds: 600 } })]);
    expect(warnings(e, llmisvc([{ name: 'main', resources: { limits: { 'nvidia.com/gpu': '1' } } }]), 'startup-budget')).toEqual([]);
  });

  it('skips a container the operator does not fill (no probe, no finding, as before)', () => {
    expect(warnings(strict(), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: template(rayGpu()) } }, 'startup-budget')).toEqual([]);
  });
});
