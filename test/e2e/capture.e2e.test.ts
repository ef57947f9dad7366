/**
 * The AdmissionReviews kube-apiserver really sends, recorded in front of the webhook: the project's
 * fixtures in test/fixtures/reviews/ come from this file. To capture them again:
 *
 *   rm -f test/fixtures/reviews/[0-9]*.json
 *   CAPTURE_REVIEWS=test/fixtures/reviews KUBEBUILDER_ASSETS=... npx vitest run \
 *     --config test/e2e/vitest.config.ts test/e2e/capture.e2e.test.ts
 *
 * Without CAPTURE_REVIEWS the same requests are recorded into a temporary folder, so every e2e run
 * checks that each kind of request reached the webhook with the shape the fixtures show.
 */
import { ApiextensionsV1Api, CustomObjectsApi, type V1Deployment, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, PYTORCHJOB_CRD, ROOT, sleep, startCluster } from './cluster.js';

const NAMESPACE = 'research';
const GPU = { 'nvidia.com/gpu': '1', memory: '8Gi' };

const cudaPod = (name: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'cuda-smoke' } },
  spec: {
    restartPolicy: 'OnFailure',
    containers: [{ name: 'vector-add', image: 'nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0', resources: { limits: { ...GPU } } }],
  },
});

const job: V1Job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'nccl-allreduce-check' },
  spec: {
    backoffLimit: 0,
    parallelism: 0, // no controller runs Jobs here; the review is what matters
    template: {
      spec: {
        restartPolicy: 'Never',
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'nccl', image: 'ghcr.io/example/nccl-tests:2.13', command: ['all_reduce_perf', '-g', '1'], resources: { limits: { ...GPU } } }],
      },
    },
  },
};

const deployment: V1Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'embeddings-server' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'embeddings-server' } },
    template: {
      metadata: { labels: { app: 'embeddings-server' } },
      spec: {
        terminationGracePeriodSeconds: 300,
        nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }],
        containers: [{
          name: 'tei',
          image: 'ghcr.io/huggingface/text-embeddings-inference:1.6',
          ports: [{ name: 'http', containerPort: 80 }],
          resources: { requests: { cpu: '2' }, limits: { ...GPU } },
          startupProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 10, failureThreshold: 60 },
          readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5 },
        }],
      },
    },
  },
};

const pytorchJob = {
  apiVersion: 'kubeflow.org/v1',
  kind: 'PyTorchJob',
  metadata: { name: 'bert-ddp' },
  spec: {
    pytorchReplicaSpecs: {
      Master: { replicas: 1, restartPolicy: 'OnFailure', template: { spec: { containers: [{ name: 'pytorch', image: 'ghcr.io/example/bert-ddp:0.9', resources: { limits: { ...GPU } } }] } } },
      Worker: { replicas: 1, restartPolicy: 'OnFailure', template: { spec: { containers: [{ name: 'pytorch', image: 'ghcr.io/example/bert-ddp:0.9', resources: { limits: { ...GPU } } }] } } },
    },
  },
};


describe.skipIf(!ASSETS)('AdmissionReviews as kube-apiserver sends them', () => {
  const target = process.env['CAPTURE_REVIEWS'] ? resolve(ROOT, process.env['CAPTURE_REVIEWS']) : undefined;
  const dir = target ?? mkdtempSync(join(tmpdir(), 'gpu-admission-capture-'));
  let c: Cluster;

  beforeAll(async () => {
    c = await startCluster({ verbose: true, captureDir: dir, controllers: true });
    await c.ensureNamespace(NAMESPACE);
    await c.ensureNamespace('default');
  });

  afterAll(async () => {
    await c?.stop();
    if (!target) rmSync(dir, { recursive: true, force: true });
  });

  /** The files written since `from`, once `count` arrived (the recorder writes before forwarding). */
  async function captured(from: number, count: number): Promise<string[]> {
    const end = Date.now() + 15_000;
    while (c.capturedReviews().length < from + count) {
      if (Date.now() > end) throw new Error(`expected ${count} reviews, got ${c.capturedReviews().slice(from).join(', ') || 'none'}`);
      await sleep(100);
    }
    return c.capturedReviews().slice(from);
  }
  const read = (file: string): { request: Record<string, any> } => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const names = (files: string[]): string[] => files.map((f) => f.replace(/^\d+-/, ''));

  it('a GPU Pod: mutate then validate CREATE, then validate UPDATE with oldObject, then a dry run', async () => {
    let n = c.capturedReviews().length;
    await c.core.createNamespacedPod({ namespace: NAMESPACE, body: cudaPod('cuda-smoke') });
    expect(names(await captured(n, 2))).toEqual(['mutate-CREATE-Pod-cuda-smoke.json', 'validate-CREATE-Pod-cuda-smoke.json']);
    const [mutate, validate] = (await captured(n, 2)).map(read);
    expect(mutate!.request['object'].spec.tolerations).toHaveLength(2);
    expect(validate!.request['object'].spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });

    n = c.capturedReviews().length;
    const current = await c.core.readNamespacedPod({ namespace: NAMESPACE, name: 'cuda-smoke' });
    current.metadata = { ...current.metadata, labels: { ...current.metadata?.labels, 'example.com/owner': 'ml-platform' } };
    await c.core.replaceNamespacedPod({ namespace: NAMESPACE, name: 'cuda-smoke', body: current });
    const [update] = await captured(n, 1);
    expect(names([update!])).toEqual(['validate-UPDATE-Pod-cuda-smoke.json']);
    expect(read(update!).request['oldObject'].metadata.labels).toEqual({ app: 'cuda-smoke' });

    n = c.capturedReviews().length;
    await c.core.createNamespacedPod({ namespace: NAMESPACE, body: cudaPod('cuda-smoke-dry'), dryRun: 'All' });
    const dry = await captured(n, 2);
    expect(names(dry)).toEqual(['mutate-CREATE-Pod-cuda-smoke-dry-dryrun.json', 'validate-CREATE-Pod-cuda-smoke-dry-dryrun.json']);
    expect(read(dry[0]!).request['options']).toMatchObject({ dryRun: ['All'] });
  });

  it('a GPU Pod where no accelerators are allowed: reviewed, then denied', async () => {
    const n = c.capturedReviews().length;
    await expect(c.core.createNamespacedPod({ namespace: 'default', body: cudaPod('cuda-smoke-unlisted') })).rejects.toThrow();
    expect(names(await captured(n, 2))).toEqual(['mutate-CREATE-Pod-cuda-smoke-unlisted.json', 'validate-CREATE-Pod-cuda-smoke-unlisted.json']);
  });

  it('a Job: mutate then validate CREATE', async () => {
    const n = c.capturedReviews().length;
    await c.batch.createNamespacedJob({ namespace: NAMESPACE, body: job });
    expect(names(await captured(n, 2))).toEqual(['mutate-CREATE-Job-nccl-allreduce-check.json', 'validate-CREATE-Job-nccl-allreduce-check.json']);
  });

  it('a Deployment, and the ReplicaSet and Pod its controllers create', async () => {
    const n = c.capturedReviews().length;
    await c.apps.createNamespacedDeployment({ namespace: NAMESPACE, body: deployment });
    const files = await captured(n, 2);
    expect(names(files.slice(0, 2))).toEqual(['mutate-CREATE-Deployment-embeddings-server.json', 'validate-CREATE-Deployment-embeddings-server.json']);
    // Then, from the controllers (as the controller-manager's user): the ReplicaSet, then its Pod.
    const all = names(await captured(n, 6));
    expect(all.filter((f) => f.includes('-ReplicaSet-')).map((f) => f.split('-ReplicaSet-')[0])).toEqual(['mutate-CREATE', 'validate-CREATE']);
    const podFile = c.capturedReviews().slice(n).find((f) => /-mutate-CREATE-Pod-embeddings-server-/.test(f));
    expect(podFile).toBeDefined();
    // The name is generated after the mutating webhooks: the validating review has it.
    expect(c.capturedReviews().slice(n).some((f) => /-validate-CREATE-Pod-embeddings-server-[a-z0-9]+-[a-z0-9]{5}\.json$/.test(f))).toBe(true);
    const pod = read(podFile!).request;
    expect(pod['name'] ?? '').toBe('');
    expect(pod['object'].metadata.generateName).toMatch(/^embeddings-server-/);
    expect(pod['object'].metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    // Let the controllers settle so that their status updates are not mixed into the next capture.
    await sleep(1500);
  });

  it('a custom resource (PyTorchJob through a CRD)', async () => {
    const ext = c.kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: PYTORCHJOB_CRD as never });
    const custom = c.kc.makeApiClient(CustomObjectsApi);
    const end = Date.now() + 30_000;
    const n = c.capturedReviews().length;
    for (;;) {
      try {
        await custom.createNamespacedCustomObject({ group: 'kubeflow.org', version: 'v1', namespace: NAMESPACE, plural: 'pytorchjobs', body: pytorchJob });
        break;
      } catch (err) {
        if (Date.now() > end) throw err;
        await sleep(250); // the new resource is served a moment after the CRD is established
      }
    }
    const files = c.capturedReviews().slice(n).filter((f) => f.includes('PyTorchJob'));
    expect(names(files)).toEqual(['mutate-CREATE-PyTorchJob-bert-ddp.json', 'validate-CREATE-PyTorchJob-bert-ddp.json']);
  });

  it('no credentials in any captured review', () => {
    const files = c.capturedReviews();
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text).not.toContain(c.token);
      expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY|"token"|[Bb]earer /);
    }
  });
});
