/**
 * Golden tests: AdmissionReview in -> response out (patch decoded). Regenerate after an intended
 * change with `UPDATE_GOLDEN=1 npm test -- test/golden` and review the diff.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { corpusReview, decodePatchB64, shippedEngine, testApp, type Review } from '../support/app.js';
import { expectGoldenJson } from '../support/golden.js';

type Spec = Record<string, unknown>;
const EXPECTED = new URL('./expected/', import.meta.url).pathname;

function podReview(namespace: string, spec: Spec, operation = 'CREATE', meta: Spec = {}): Review {
  const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace, ...meta }, spec };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: `uid-${namespace}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, name: 'p', namespace, operation, object, dryRun: false },
  };
}

const defaults = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', priority: 0, preemptionPolicy: 'PreemptLowerPriority',
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] };
const res = (gpu: Record<string, string>, extra: Record<string, string> = { cpu: '4', memory: '16Gi' }): Spec => ({ limits: { ...gpu, ...extra }, requests: { ...gpu, ...extra } });
const probe = { httpGet: { path: '/health', port: 8000, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

const CASES: Record<string, { endpoint: 'mutate' | 'validate'; review: () => Review }> = {
  'mutate-captured-pod-inference': { endpoint: 'mutate', review: () => corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference') },
  'mutate-captured-pod-training': { endpoint: 'mutate', review: () => corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'training') },
  'mutate-captured-pod-notebooks': { endpoint: 'mutate', review: () => corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'notebooks') },
  'mutate-captured-pod-dryrun-inference': { endpoint: 'mutate', review: () => corpusReview('004-mutate-CREATE-Pod-cuda-smoke-dry-dryrun.json', 'inference') },
  'mutate-captured-deployment-template-not-mutated': { endpoint: 'mutate', review: () => corpusReview('010-mutate-CREATE-Deployment-embeddings-server.json', 'inference') },
  'validate-captured-pod-default-denied': { endpoint: 'validate', review: () => corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json') },
  'validate-captured-pod-exempt-namespace': { endpoint: 'validate', review: () => corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json', 'gpu-operator') },
  'validate-captured-update-allowed': { endpoint: 'validate', review: () => corpusReview('003-validate-UPDATE-Pod-cuda-smoke.json') },
  'mutate-model-server-with-probes': {
    endpoint: 'mutate',
    review: () => podReview('inference', { ...defaults, containers: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.10.0', resources: res({ 'nvidia.com/gpu': '1' }), readinessProbe: probe, livenessProbe: { ...probe, path: undefined } }] }),
  },
  'mutate-selects-a100-no-tolerations-key': {
    endpoint: 'mutate',
    review: () => podReview('training', { containers: [{ name: 't', image: 'pytorch', resources: res({ 'nvidia.com/gpu': '8' }), startupProbe: { exec: { command: ['true'] }, periodSeconds: 5, failureThreshold: 2 } }], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, terminationGracePeriodSeconds: 900, priorityClassName: 'training-preemptible' }),
  },
  'validate-squatting-cpu-pod': {
    endpoint: 'validate',
    review: () => podReview('inference', { ...defaults, containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: '1' } } }], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } }),
  },
  // A DaemonSet the policy does not name in spec.nodeAgents is no node agent: it may not squat.
  'validate-tenant-daemonset-pod-may-not-tolerate-everything': {
    endpoint: 'validate',
    review: () => podReview('inference', { containers: [{ name: 'agent', image: 'exporter' }], tolerations: [{ operator: 'Exists' }] }, 'CREATE', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'dcgm', uid: 'u', controller: true }] }),
  },
  'validate-mig-on-non-mig-pool': {
    endpoint: 'validate',
    review: () => podReview('training', { containers: [{ name: 't', image: 'pytorch', resources: res({ 'nvidia.com/mig-1g.5gb': '1' }) }], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }),
  },
  'validate-contradicting-selection': {
    endpoint: 'validate',
    review: () => podReview('training', {
      containers: [{ name: 't', image: 'pytorch', resources: res({ 'nvidia.com/gpu': '1' }) }],
      nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4'] }] }] } } },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
    }),
  },
  'validate-limits-and-quantity': {
    endpoint: 'validate',
    review: () => podReview('training', { containers: [
      { name: 'a', image: 'x', resources: { limits: { 'nvidia.com/gpu': '0.5', memory: '1Gi' } } },
      { name: 'b', image: 'x', resources: { requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '4', memory: '1Gi' } } },
      { name: 'c', image: 'x', resources: { limits: { 'nvidia.com/gpu': '6', memory: '1Gi' } } },
    ], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }),
  },
  'validate-priority-escalation': {
    endpoint: 'validate',
    review: () => podReview('training', { containers: [{ name: 't', image: 'x', resources: res({ 'nvidia.com/gpu': '1' }) }], priorityClassName: 'system-node-critical', tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] }),
  },
  'validate-warn-mode-notebooks': {
    endpoint: 'validate',
    review: () => podReview('notebooks', { containers: [{ name: 'nb', image: 'jupyter', resources: res({ 'nvidia.com/gpu': '2' }) }], priorityClassName: 'inference-critical' }),
  },
  'validate-kueue-gated-pod': {
    endpoint: 'validate',
    review: () => podReview('training', { containers: [{ name: 't', image: 'x', resources: res({ 'nvidia.com/gpu': '1' }) }], schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }] }),
  },
};

let app: FastifyInstance;
beforeAll(async () => {
  const engine = await shippedEngine();
  app = testApp(() => engine);
});

async function respond(endpoint: string, review: Review): Promise<Record<string, unknown>> {
  const res = await app.inject({ method: 'POST', url: `/${endpoint}?timeout=10s`, payload: review });
  expect(res.statusCode).toBe(200);
  const body = res.json() as { response: Record<string, unknown> };
  const { patch, ...rest } = body.response;
  return patch === undefined ? { ...body, response: rest } : { ...body, response: { ...rest, patch: decodePatchB64(patch) } };
}

describe('golden AdmissionReview responses', () => {
  it.each(Object.keys(CASES))('%s', async (name) => {
    const c = CASES[name]!;
    const actual = await respond(c.endpoint, c.review());
    expectGoldenJson(`${EXPECTED}${name}.json`, actual);
  });
});
