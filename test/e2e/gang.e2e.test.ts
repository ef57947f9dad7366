/**
 * Gang admission in front of a real kube-apiserver: a PyTorchJob custom resource (permissive CRD,
 * as the operator's stores what it is given) with two GPU workers and no gang path is denied by
 * the validating webhook under gang.mode required, admitted with the Kueue queue-name label, and
 * labelled by the mutating webhook where the policy names a default queue.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, CONFIGURATION_NAME, logsOnFailure, PYTORCHJOB_CRD, refusal, ROOT, startCluster, VALIDATING_WEBHOOK } from './cluster.js';

const DENIED = `admission webhook "${VALIDATING_WEBHOOK}" denied the request: `;
const QUEUE = 'kueue.x-k8s.io/queue-name';

const GANG_POLICIES = `apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata:
  name: gang-required
spec:
  namespaces:
    names: [gang-required]
  gang:
    mode: required
    paths: [kueue, volcano]
---
apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata:
  name: gang-queued
spec:
  namespaces:
    names: [gang-queued]
  gang:
    mode: required
    defaultQueue: gpu-batch
`;


const template = {
  spec: {
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'pytorch', image: 'pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime', resources: { limits: { 'nvidia.com/gpu': '1', memory: '32Gi' } } }],
  },
};
const pytorchJob = (name: string, labels?: Record<string, string>) => ({
  apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob',
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: { pytorchReplicaSpecs: { Master: { replicas: 1, template }, Worker: { replicas: 2, template } } },
});

describe.skipIf(!ASSETS)('gang admission of a PyTorchJob custom resource', () => {
  let c: Cluster;
  let custom: CustomObjectsApi;
  const policiesDir = mkdtempSync(join(tmpdir(), 'gpa-e2e-gang-'));
  const create = (namespace: string, body: object) => custom.createNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace, plural: 'pytorchjobs', body });

  beforeAll(async () => {
    cpSync(join(ROOT, 'policies'), policiesDir, { recursive: true });
    writeFileSync(join(policiesDir, 'gang.yaml'), GANG_POLICIES);
    c = await startCluster({ verbose: true, policiesDir });
    for (const ns of ['gang-required', 'gang-queued']) await c.ensureNamespace(ns);
    await c.kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: PYTORCHJOB_CRD as never });
    custom = c.kc.makeApiClient(CustomObjectsApi);
    // The new resource is served a moment after the CRD is established.
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        await custom.listNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace: 'gang-required', plural: 'pytorchjobs' });
        break;
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  });

  afterAll(async () => {
    await c?.stop();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  logsOnFailure(() => c);

  it('the shipped validating and mutating configurations send kubeflow.org pytorchjobs', async () => {
    const sends = (rules: { apiGroups?: string[]; resources?: string[]; operations?: string[] }[] | undefined) =>
      (rules ?? []).some((r) => r.apiGroups?.includes('kubeflow.org') && r.resources?.includes('pytorchjobs') && r.operations?.includes('CREATE'));
    const v = await c.admission.readValidatingWebhookConfiguration({ name: CONFIGURATION_NAME });
    const m = await c.admission.readMutatingWebhookConfiguration({ name: CONFIGURATION_NAME });
    expect(v.webhooks?.some((w) => sends(w.rules))).toBe(true);
    expect(m.webhooks?.some((w) => sends(w.rules))).toBe(true);
  });

  it('denies a 2-worker GPU PyTorchJob on no gang path, naming the field, the paths and the policy', async () => {
    const r = await refusal(create('gang-required', pytorchJob('ddp-no-queue')));
    expect(r, r.message).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(r.message.startsWith(`${DENIED}PyTorchJob gang-required/ddp-no-queue violates NamespacePolicy "gang-required"`), r.message).toBe(true);
    expect(r.message).toContain('[gang-scheduling] metadata.labels: PyTorchJob ddp-no-queue runs 3 Pods with accelerators that must run together (spec.pytorchReplicaSpecs: Master 1 + Worker 2)');
    expect(r.message).toContain(`add the label ${QUEUE}: <LocalQueue> to metadata.labels`);
    expect(r.message).toContain('set spec.schedulerName: volcano on every accelerator Pod template');
  });

  it('admits it with the Kueue queue-name label', async () => {
    const created = await create('gang-required', pytorchJob('ddp-queued', { [QUEUE]: 'team-queue' })) as { metadata: { labels: Record<string, string> }; spec?: { pytorchReplicaSpecs?: object } };
    expect(created.metadata.labels[QUEUE]).toBe('team-queue');
    // The spec is stored as sent (the CRD preserves unknown fields): the webhook judged the Pod templates.
    expect(Object.keys(created.spec?.pytorchReplicaSpecs ?? {})).toEqual(['Master', 'Worker']);
  });

  it('the mutating webhook sets the policy\'s default queue on CREATE, and the result is admitted', async () => {
    const created = await create('gang-queued', pytorchJob('ddp-defaulted')) as { metadata: { labels?: Record<string, string> } };
    expect(created.metadata.labels?.[QUEUE]).toBe('gpu-batch');
  });
});
