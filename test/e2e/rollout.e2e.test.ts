/**
 * Rollout fields of an accelerator Deployment in front of a real kube-apiserver: the mutating
 * webhook raises progressDeadlineSeconds (the API default 600 s, already filled in when webhooks
 * see the object) to the start-up budget + margin and sets maxUnavailable: 0, as read back from
 * the API server; with mutations.rollout off the validating webhook denies the same Deployment.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, logsOnFailure, refusal, ROOT, startCluster, VALIDATING_WEBHOOK } from './cluster.js';

const policyDoc = (name: string, namespace: string, mutate: boolean): string => `apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata:
  name: ${name}
spec:
  namespaces:
    names: [${namespace}]
  mode: enforce
  accelerators:
    pools: [l4]
    defaultPool: l4
  startupProbe:
    minBudgetSeconds: 900
  rollout:
    progressDeadlineSeconds: auto
    marginSeconds: 300
    surgeOnly: enforce
    recreate: warn
  mutations:
    rollout: ${mutate}
`;

const deployment = (name: string): V1Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'server', image: 'vllm/vllm-openai:v0.10.0', resources: { limits: { 'nvidia.com/gpu': '1', memory: '32Gi' }, requests: { cpu: '4', memory: '32Gi' } } }],
      },
    },
  },
});

describe.skipIf(!ASSETS)('rollout fields of GPU Deployments in front of kube-apiserver', () => {
  let c: Cluster;
  let policies: string;

  beforeAll(async () => {
    policies = mkdtempSync(join(tmpdir(), 'gpa-e2e-rollout-'));
    for (const f of ['pools.yaml', 'default.yaml']) cpSync(join(ROOT, 'policies', f), join(policies, f));
    writeFileSync(join(policies, 'serving.yaml'), policyDoc('serving', 'serving', true));
    writeFileSync(join(policies, 'serving-strict.yaml'), policyDoc('serving-strict', 'serving-strict', false));
    c = await startCluster({ verbose: true, policiesDir: policies });
    for (const ns of ['serving', 'serving-strict']) await c.ensureNamespace(ns);
  });

  afterAll(async () => {
    await c?.stop();
    if (policies) rmSync(policies, { recursive: true, force: true });
  });

  logsOnFailure(() => c);

  it('sets progressDeadlineSeconds (900 s budget + 300 s margin) and maxUnavailable: 0 on the stored Deployment', async () => {
    await c.apps.createNamespacedDeployment({ namespace: 'serving', body: deployment('vllm') });
    const stored = await c.apps.readNamespacedDeployment({ namespace: 'serving', name: 'vllm' });
    expect(stored.spec?.progressDeadlineSeconds).toBe(1200);
    expect(stored.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    // The Pod template is not a rollout field: it is left as written (mutations.templates is off).
    expect(stored.spec?.template.spec?.containers[0]?.startupProbe).toBeUndefined();
  });

  it('raises a lowered progressDeadlineSeconds again on UPDATE', async () => {
    const current = await c.apps.readNamespacedDeployment({ namespace: 'serving', name: 'vllm' });
    const body = { ...current, spec: { ...current.spec, progressDeadlineSeconds: 700 } } as V1Deployment;
    const updated = await c.apps.replaceNamespacedDeployment({ namespace: 'serving', name: 'vllm', body });
    expect(updated.spec?.progressDeadlineSeconds).toBe(1200);
  });

  it('denies the same Deployment where the policy does not patch, naming the fields', async () => {
    const r = await refusal(c.apps.createNamespacedDeployment({ namespace: 'serving-strict', body: deployment('vllm') }));
    expect(r, r.message).toMatchObject({ code: 403 });
    expect(r.message).toContain(`admission webhook "${VALIDATING_WEBHOOK}" denied the request`);
    expect(r.message).toContain('[rollout-progress-deadline] spec.progressDeadlineSeconds: ');
    expect(r.message).toContain('[rollout-strategy] spec.strategy.rollingUpdate.maxUnavailable: ');
  });
});
