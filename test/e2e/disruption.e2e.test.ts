/**
 * Disruption protection in front of a real kube-apiserver: a GPU Pod whose controller is a Job is
 * stored with Karpenter's and Cluster Autoscaler's do-not-evict annotations; a ReplicaSet's Pod
 * (serving) is stored without them; a user's safe-to-evict "true" is kept.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, logsOnFailure, ROOT, startCluster } from './cluster.js';

const POLICY = `apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata:
  name: trainers
spec:
  namespaces:
    names: [trainers]
  mode: enforce
  accelerators:
    pools: [l4]
    defaultPool: l4
  disruption:
    protect: training
`;

const pod = (name: string, ownerKind: string, ownerApiVersion: string, annotations?: Record<string, string>): V1Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name, ...(annotations ? { annotations } : {}),
    // No controller manager runs here, so the owner need not exist for the Pod to be stored.
    ownerReferences: [{ apiVersion: ownerApiVersion, kind: ownerKind, name: 'owner', uid: '00000000-0000-0000-0000-000000000001', controller: true }],
  },
  spec: {
    restartPolicy: 'Never',
    nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'train', image: 'pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime', resources: { limits: { 'nvidia.com/gpu': '1', memory: '32Gi' }, requests: { cpu: '4', memory: '32Gi' } } }],
  },
});

const KARPENTER = 'karpenter.sh/do-not-disrupt';
const CA = 'cluster-autoscaler.kubernetes.io/safe-to-evict';

describe.skipIf(!ASSETS)('disruption protection of GPU Pods in front of kube-apiserver', () => {
  let c: Cluster;
  let policies: string;

  beforeAll(async () => {
    policies = mkdtempSync(join(tmpdir(), 'gpa-e2e-disruption-'));
    for (const f of ['pools.yaml', 'default.yaml']) cpSync(join(ROOT, 'policies', f), join(policies, f));
    writeFileSync(join(policies, 'trainers.yaml'), POLICY);
    c = await startCluster({ verbose: true, policiesDir: policies });
    await c.ensureNamespace('trainers');
  });

  afterAll(async () => {
    await c?.stop();
    if (policies) rmSync(policies, { recursive: true, force: true });
  });

  logsOnFailure(() => c);

  it("stores a Job's GPU Pod with both annotations", async () => {
    await c.core.createNamespacedPod({ namespace: 'trainers', body: pod('worker-0', 'Job', 'batch/v1') });
    const stored = await c.core.readNamespacedPod({ namespace: 'trainers', name: 'worker-0' });
    expect(stored.metadata?.annotations).toMatchObject({ [KARPENTER]: 'true', [CA]: 'false' });
  });

  it("leaves a ReplicaSet's (serving) GPU Pod alone", async () => {
    await c.core.createNamespacedPod({ namespace: 'trainers', body: pod('server-0', 'ReplicaSet', 'apps/v1') });
    const stored = await c.core.readNamespacedPod({ namespace: 'trainers', name: 'server-0' });
    expect(stored.metadata?.annotations?.[KARPENTER]).toBeUndefined();
    expect(stored.metadata?.annotations?.[CA]).toBeUndefined();
  });

  it('keeps a safe-to-evict "true" the user set', async () => {
    await c.core.createNamespacedPod({ namespace: 'trainers', body: pod('worker-1', 'Job', 'batch/v1', { [CA]: 'true' }) });
    const stored = await c.core.readNamespacedPod({ namespace: 'trainers', name: 'worker-1' });
    expect(stored.metadata?.annotations).toMatchObject({ [KARPENTER]: 'true', [CA]: 'true' });
  });
});
