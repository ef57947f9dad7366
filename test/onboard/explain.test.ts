/** `gpu-admission policy explain`: which policy governs a namespace, and its settings in plain words. */
import { beforeAll, describe, expect, it } from 'vitest';
import { explainNamespace } from '../../src/policy/explain.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { parsePolicies } from '../../src/policy/parse.js';
import type { PolicySet } from '../../src/policy/types.js';
import { cli, POLICIES } from './support.js';

let set: PolicySet;
beforeAll(async () => {
  set = await loadPolicyDir(POLICIES);
});

describe('policy explain', () => {
  it('a namespace a policy names: every effective setting', () => {
    expect(explainNamespace(set, 'inference', {})).toBe([
      'Namespace inference is governed by NamespacePolicy "realtime-inference" (inference.yaml): the policy names it.',
      'Mode: enforce: a Pod that breaks a rule is denied.',
      'Accelerators: allowed from pools l4, a100-80gb; resources: nvidia.com/gpu; at most 8 per Pod.',
      '  Accelerator Pods that select no pool go to l4: they get the node selector cloud.google.com/gke-accelerator=nvidia-l4 and tolerations for nvidia.com/gpu=present:NoSchedule.',
      'Start-up: accelerator containers get at least 15m (900 s) before a liveness probe may kill them (a startupProbe is added or raised).',
      'Shutdown: accelerator Pods get at least 2m (120 s) of termination grace.',
      'Priority: accelerator Pods that name no class get inference-critical; Pods may name only inference-critical, inference-standard.',
      'Requirements: accelerator containers need a memory limit, a CPU request and a readinessProbe.',
      'Rollouts: no requirement.',
      'Disruption: accelerator Pods of training and batch workloads get the node autoscalers\' do-not-evict annotations; a multi-replica accelerator workload without a PodDisruptionBudget is warned in audits.',
      'Gang admission: not required.',
      'CUDA: a workload\'s CUDA version (annotation gpu-admission.io/cuda or a known image tag) against the pools\' drivers: warned.',
      'Images: accelerator images without a tag or with :latest warned.',
      'Cost labels: none required.',
      'Mutations: on Pod creation; Pod templates are validated, not patched (their Pods are).',
      'Exemptions: none.',
      'Labels considered: kubernetes.io/metadata.name=inference (pass --labels k=v,... for the others: the webhook reads the live labels).',
      '',
    ].join('\n'));
  });

  it('a namespace selected by its labels says which labels, and what else matched', () => {
    const text = explainNamespace(set, 'team-x', { 'gpu-admission.io/profile': 'training' });
    expect(text).toContain('Namespace team-x is governed by NamespacePolicy "training" (training.yaml): its labels match the policy\'s selector (gpu-admission.io/profile=training).');
    expect(text).toContain('Requirements: accelerator containers need a memory limit.');
    expect(text).toContain('Labels considered: gpu-admission.io/profile=training, kubernetes.io/metadata.name=team-x.');
  });

  it('a name beats a selector, and the selector policy is named as not applied', () => {
    const text = explainNamespace(set, 'inference', { 'gpu-admission.io/profile': 'training' });
    expect(text).toContain('governed by NamespacePolicy "realtime-inference"');
    expect(text).toContain('Also matching, but not applied: "training" (a policy that names the namespace comes first, then selectors by policy name).');
  });

  it('the default policy: no accelerators, squatting still denied', () => {
    const text = explainNamespace(set, 'web', {});
    expect(text).toContain('Namespace web is governed by NamespacePolicy "strict-default" (default.yaml): no other policy names it or selects its labels, and this is the default policy.');
    expect(text).toContain('Accelerators: none. Any accelerator request (extended resource or DRA claim) is denied');
    expect(text).toContain('Priority: Pods may name any class but system-*.');
  });

  it('an exempt namespace', () => {
    expect(explainNamespace(set, 'gpu-operator', {}).split('\n').slice(0, 2)).toEqual([
      'Namespace gpu-operator is governed by NamespacePolicy "gpu-system" (exempt.yaml): the policy names it.',
      'Exempt: its Pods are neither validated nor mutated.',
    ]);
  });

  it('no policy at all: let through untouched', () => {
    const only = parsePolicies([{ path: 'a.yaml', text: 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {namespaces: {names: [a]}, mode: audit, exemptions: [{rules: [gpu-squatting], ownerKinds: [Job], users: ["system:serviceaccount:kube-system:job-controller"]}], mutations: {tolerations: false}}\n' }]);
    expect(explainNamespace(only, 'b', {})).toContain('Namespace b is governed by no policy: no policy names it or selects its labels, and none is the default.\nIts Pods are let through untouched (logged as skipped).');
    const a = explainNamespace(only, 'a', {});
    expect(a).toContain('Mode: audit: nothing is denied, warned or patched; findings and would-be patches are only recorded in audit annotations.');
    expect(a).toContain('Accelerators: allowed from any pool (none defined)');
    expect(a).toContain('Mutations: on Pod creation, except tolerations;');
    expect(a).toContain('Exemption: gpu-squatting lifted for Pods of Job controllers and requests by system:serviceaccount:kube-system:job-controller.');
    expect(a).not.toContain('Node agents');
    const agents = parsePolicies([{ path: 'a.yaml', text: 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {namespaces: {names: [a]}, nodeAgents: [{name: dcgm-exporter}]}\n' }]);
    expect(explainNamespace(agents, 'a', {})).toContain('Node agents: DaemonSet dcgm-exporter may tolerate GPU pool taints (gpu-squatting), their Pods when the DaemonSet controller creates them.');
  });

  it('the CLI prints the same, and takes --labels', async () => {
    const r = await cli(['policy', 'explain', 'team-x', '--labels', 'gpu-admission.io/profile=training', '--policies', POLICIES]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(explainNamespace(set, 'team-x', { 'gpu-admission.io/profile': 'training' }));
    expect((await cli(['policy', 'explain'])).code).toBe(2);
  });
});
