/**
 * gpu-admission in front of a real kube-apiserver (v1.20.2 from ../shared/envtest): what clients get
 * back and what the API server stores, after its own defaulting, validation and Priority plugin.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, RbacAuthorizationV1Api, type KubernetesObject, type V1Container, type V1Namespace, type V1Pod, type V1PodSpec, type V1Toleration } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYamlDocuments } from '../../src/util/yaml.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, logsOnFailure, refusal, ROOT, SKIP_MESSAGE, startCluster, VALIDATING_WEBHOOK, warningTexts, WEBHOOK_NAMESPACE } from './cluster.js';

const NAMESPACES = ['inference', 'training', 'notebooks', 'research', 'default', 'gpu-operator', WEBHOOK_NAMESPACE];
const PRIORITY_CLASSES = { 'inference-critical': 1_000_000, 'training-batch': 100_000, 'notebook-interactive': 10_000, research: 1_000 };

/** What kube-apiserver's DefaultTolerationSeconds plugin gives every Pod. */
const DEFAULT_TOLERATIONS: V1Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];
const GPU_TOLERATION: V1Toleration = { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' };
const DENIED = `admission webhook "${VALIDATING_WEBHOOK}" denied the request: `;

/** A model server as a careful user writes it: one GPU, memory limit, CPU request, readiness probe. */
function server(overrides: Partial<V1Container> = {}, limits: Record<string, string> = { 'nvidia.com/gpu': '1', memory: '4Gi' }): V1Container {
  return {
    name: 'server',
    image: 'vllm/vllm-openai:v0.10.0',
    ports: [{ containerPort: 8000 }],
    resources: { limits, requests: { cpu: '2' } },
    readinessProbe: { httpGet: { path: '/health', port: 8000 } },
    ...overrides,
  };
}

const pod = (name: string, spec: Partial<V1PodSpec> = {}): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name } },
  spec: { containers: [server()], ...spec },
});

if (!ASSETS) {
  // Printed once, so `npm run test:e2e` without the binaries says what to do instead of passing silently.
  console.warn(`\n${SKIP_MESSAGE}\n`);
  describe.skip('gpu-admission end-to-end (KUBEBUILDER_ASSETS is not set)', () => {
    it(SKIP_MESSAGE, () => undefined);
  });
}

describe.skipIf(!ASSETS)('gpu-admission in front of kube-apiserver', () => {
  let c: Cluster;
  const started = Date.now();

  beforeAll(async () => {
    c = await startCluster({ verbose: true });
    for (const name of NAMESPACES) await c.ensureNamespace(name);
    for (const [name, value] of Object.entries(PRIORITY_CLASSES)) {
      await c.scheduling.createPriorityClass({ body: { metadata: { name }, value, description: `e2e ${name}` } });
    }
  });

  afterAll(async () => {
    await c?.stop();
    process.stderr.write(`[e2e] suite finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  logsOnFailure(() => c);

  const create = (namespace: string, body: V1Pod): Promise<V1Pod> => c.core.createNamespacedPod({ namespace, body });
  const read = (namespace: string, name: string): Promise<V1Pod> => c.core.readNamespacedPod({ namespace, name });
  async function expectAbsent(namespace: string, name: string): Promise<void> {
    const r = await refusal(read(namespace, name));
    expect(r.code).toBe(404);
  }
  /** Denied by our validating webhook: HTTP 403 and the API server's wording around our message. */
  async function expectDenied(call: Promise<unknown>, subject: string): Promise<string> {
    const r = await refusal(call);
    expect(r, r.message).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(r.message.startsWith(`${DENIED}${subject} violates NamespacePolicy "`)).toBe(true);
    return r.message;
  }

  it('has the namespaces (labelled kubernetes.io/metadata.name), PriorityClasses and webhooks registered by URL', async () => {
    for (const name of NAMESPACES) {
      const ns = await c.core.readNamespace({ name });
      // Set by kube-apiserver from 1.21 on, by the harness on v1.20: the webhooks select on it.
      expect(ns.metadata?.labels?.['kubernetes.io/metadata.name']).toBe(name);
    }
    for (const [name, value] of Object.entries(PRIORITY_CLASSES)) {
      const pc = await c.scheduling.readPriorityClass({ name });
      expect(pc.value).toBe(value);
    }
    const mutating = await c.admission.readMutatingWebhookConfiguration({ name: 'gpu-admission' });
    expect(mutating.webhooks?.[0]?.clientConfig.url).toBe(`${c.webhookUrl}/mutate`);
  });

  it('stores a correct GPU Pod in inference with the pool toleration, node selector, startupProbe, grace period and priority', async () => {
    const created = await create('inference', pod('vllm-l4'));
    const stored = await read('inference', 'vllm-l4');
    expect(stored.spec).toEqual(created.spec);
    const spec = stored.spec as V1PodSpec;
    // Appended after the API server's defaults, never replacing them.
    expect(spec.tolerations).toEqual([...DEFAULT_TOLERATIONS, GPU_TOLERATION]);
    expect(spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    const container = spec.containers[0] as V1Container;
    const handler = { httpGet: { path: '/health', port: 8000, scheme: 'HTTP' } };
    // 900 s budget of realtime-inference = 90 x 10 s; the API server defaulted the rest.
    expect(container.startupProbe).toEqual({ ...handler, failureThreshold: 90, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1 });
    expect(container.readinessProbe).toEqual({ ...handler, failureThreshold: 3, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1 });
    expect(container.resources).toEqual({ limits: { 'nvidia.com/gpu': '1', memory: '4Gi' }, requests: { 'nvidia.com/gpu': '1', memory: '4Gi', cpu: '2' } });
    expect(spec.terminationGracePeriodSeconds).toBe(120);
    // The Priority plugin re-ran after our patch: priority resolved from the class, no conflict.
    expect(spec.priorityClassName).toBe('inference-critical');
    expect(spec.priority).toBe(1_000_000);
    expect(spec.preemptionPolicy).toBe('PreemptLowerPriority');
  });

  it('keeps what the user set when it satisfies the policy, and allows label UPDATEs of admitted Pods', async () => {
    const created = await create('inference', pod('vllm-a100', {
      nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' },
      terminationGracePeriodSeconds: 300,
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [server({ startupProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 20, failureThreshold: 60 } })],
    }));
    const spec = created.spec as V1PodSpec;
    expect(spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' });
    expect(spec.terminationGracePeriodSeconds).toBe(300);
    // The user's toleration already covers the pool's taint: nothing appended.
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, ...DEFAULT_TOLERATIONS]);
    expect(spec.containers[0]?.startupProbe).toMatchObject({ periodSeconds: 20, failureThreshold: 60 });
    expect(spec.priority).toBe(1_000_000);

    const labelled = { ...created, metadata: { ...created.metadata, labels: { ...created.metadata?.labels, tier: 'gold' } } };
    const updated = await c.core.replaceNamespacedPod({ namespace: 'inference', name: 'vllm-a100', body: labelled });
    expect(updated.metadata?.labels?.['tier']).toBe('gold');
    expect(updated.spec).toEqual(spec);
  });

  describe('denies each rule violation with our message', () => {
    const cases: Array<{ rule: string; namespace: string; name: string; spec: Partial<V1PodSpec>; policy: string; path: string }> = [
      {
        rule: 'accelerator-allowed', namespace: 'default', name: 'gpu-in-default', policy: 'strict-default',
        spec: {}, path: 'spec.containers[0].resources.limits[nvidia.com/gpu]',
      },
      {
        rule: 'accelerator-limits', namespace: 'inference', name: 'zero-gpus', policy: 'realtime-inference',
        spec: { containers: [server({}, { 'nvidia.com/gpu': '0', memory: '4Gi' })] },
        path: 'spec.containers[0].resources.limits[nvidia.com/gpu]',
      },
      {
        rule: 'accelerator-quantity', namespace: 'inference', name: 'nine-gpus', policy: 'realtime-inference',
        spec: { containers: [server({}, { 'nvidia.com/gpu': '9', memory: '4Gi' })] },
        path: 'spec.containers[0].resources.limits[nvidia.com/gpu]',
      },
      {
        rule: 'node-selection', namespace: 'inference', name: 'l4-and-a100', policy: 'realtime-inference',
        spec: {
          nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-a100-80gb'] }] }] } } },
        },
        path: 'spec.nodeSelector[cloud.google.com/gke-accelerator]',
      },
      {
        rule: 'pool-selection', namespace: 'training', name: 'mig-on-a100-80gb', policy: 'training',
        spec: { nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, containers: [server({}, { 'nvidia.com/mig-1g.5gb': '1', memory: '4Gi' })] },
        path: 'spec.nodeSelector[cloud.google.com/gke-accelerator]',
      },
      {
        rule: 'gpu-squatting', namespace: 'inference', name: 'cpu-squatter', policy: 'realtime-inference',
        spec: { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: '1', memory: '1Gi' } } }] },
        path: 'spec.tolerations[0]',
      },
      {
        rule: 'container-resources', namespace: 'inference', name: 'no-memory-limit', policy: 'realtime-inference',
        spec: { containers: [server({}, { 'nvidia.com/gpu': '1' })] },
        path: 'spec.containers[0].resources.limits.memory',
      },
      {
        rule: 'priority-class', namespace: 'training', name: 'system-critical', policy: 'training',
        spec: { priorityClassName: 'system-node-critical' },
        path: 'spec.priorityClassName',
      },
    ];

    it.each(cases)('$rule: $name in $namespace', async ({ rule, namespace, name, spec, policy, path }) => {
      const message = await expectDenied(create(namespace, pod(name, spec)), `Pod ${namespace}/${name}`);
      expect(message).toContain(`violates NamespacePolicy "${policy}" (mode enforce, `);
      expect(message).toContain(`\n(1) [${rule}] ${path}: `);
      expect(message).toMatch(/\. Fix: .+\.$/);
      await expectAbsent(namespace, name);
    });

    // Kubernetes validates extended resources itself, after the mutating and before the validating
    // webhooks: these never reach our accelerator-limits rule, and the client sees the API server's text.
    it.each<{ name: string; limits: Record<string, string>; requests: Record<string, string>; text: string }>([
      { name: 'half-gpu', limits: { 'nvidia.com/gpu': '500m', memory: '4Gi' }, requests: { cpu: '2' }, text: 'must be an integer' },
      { name: 'request-ne-limit', limits: { 'nvidia.com/gpu': '2', memory: '4Gi' }, requests: { cpu: '2', 'nvidia.com/gpu': '1' }, text: 'must be equal to nvidia.com/gpu limit' },
      { name: 'request-no-limit', limits: { memory: '4Gi' }, requests: { cpu: '2', 'nvidia.com/gpu': '1' }, text: 'Limit must be set for non overcommitable resources' },
    ])('$name is refused by the API server\'s own validation first', async ({ name, limits, requests, text }) => {
      const r = await refusal(create('inference', pod(name, { containers: [server({ resources: { limits, requests } })] })));
      expect(r.code).toBe(422);
      expect(r.message).toContain(text);
      expect(r.message).not.toContain(VALIDATING_WEBHOOK);
    });
  });

  it('returns warn-mode findings to the client as Warning headers (notebooks, 2 GPUs)', async () => {
    const res = await c.core.createNamespacedPodWithHttpInfo({ namespace: 'notebooks', body: pod('nb-two-gpus', { containers: [server({}, { 'nvidia.com/gpu': '2', memory: '8Gi' })] }) });
    expect(res.httpStatusCode).toBe(201);
    const warnings = warningTexts(res.headers['warning']);
    expect(warnings.some((w) => w.startsWith('[accelerator-quantity] the Pod requests 2 nvidia.com/gpu in total, more than the 1 per Pod'))).toBe(true);
    for (const w of warnings) {
      expect(w.length).toBeLessThan(120);
      expect(w).toMatch(/^[\x20-\x7e]+$/);
    }
    const stored = await read('notebooks', 'nb-two-gpus');
    expect(stored.spec?.priorityClassName).toBe('notebook-interactive');
    expect(stored.spec?.priority).toBe(10_000);
    expect(stored.spec?.terminationGracePeriodSeconds).toBe(60);
  });

  it('dryRun=All returns the mutated object and stores nothing', async () => {
    const dry = await c.core.createNamespacedPod({ namespace: 'inference', body: pod('dry-run'), dryRun: 'All' });
    expect(dry.spec?.tolerations).toEqual([...DEFAULT_TOLERATIONS, GPU_TOLERATION]);
    expect(dry.spec?.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(dry.spec?.containers[0]?.startupProbe).toMatchObject({ failureThreshold: 90, periodSeconds: 10 });
    expect(dry.spec?.terminationGracePeriodSeconds).toBe(120);
    expect(dry.spec?.priority).toBe(1_000_000);
    await expectAbsent('inference', 'dry-run');
    // Denials are the same with dryRun.
    await expectDenied(c.core.createNamespacedPod({ namespace: 'default', body: pod('dry-run-default'), dryRun: 'All' }), 'Pod default/dry-run-default');
  });

  it('denies a Deployment whose Pod template asks for 9 GPUs, naming the template path', async () => {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'trainer-9' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'trainer-9' } },
        template: { metadata: { labels: { app: 'trainer-9' } }, spec: { containers: [{ name: 'train', image: 'pytorch/pytorch', resources: { limits: { 'nvidia.com/gpu': '9', memory: '64Gi' } } }] } },
      },
    };
    const message = await expectDenied(c.apps.createNamespacedDeployment({ namespace: 'training', body }), 'Deployment training/trainer-9');
    expect(message).toContain('[accelerator-quantity] spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]: ');
    const r = await refusal(c.apps.readNamespacedDeployment({ namespace: 'training', name: 'trainer-9' }));
    expect(r.code).toBe(404);
  });

  it('denies a Job with GPUs in a namespace that allows none, and admits a correct Deployment untouched', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'cuda-job' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'cuda', image: 'nvidia/cuda', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } } },
    };
    const message = await expectDenied(c.batch.createNamespacedJob({ namespace: 'default', body: job }), 'Job default/cuda-job');
    expect(message).toContain('[accelerator-allowed] spec.template.spec.containers[0]');

    const template = { metadata: { labels: { app: 'vllm' } }, spec: { containers: [server()] } };
    const deployment = await c.apps.createNamespacedDeployment({
      namespace: 'inference',
      body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'vllm' }, spec: { replicas: 2, selector: { matchLabels: { app: 'vllm' } }, template } },
    });
    // Templates are not mutated: the Pods are, when the ReplicaSet creates them.
    expect(deployment.spec?.template.spec?.tolerations).toBeUndefined();
    expect(deployment.spec?.template.spec?.priorityClassName).toBeUndefined();
  });

  it('lets a Pod in the exempt namespace gpu-operator through untouched', async () => {
    const created = await create('gpu-operator', pod('device-plugin', { tolerations: [{ operator: 'Exists' }] }));
    const spec = (await read('gpu-operator', 'device-plugin')).spec as V1PodSpec;
    expect(spec).toEqual(created.spec);
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.priorityClassName).toBeUndefined();
    expect(spec.priority).toBe(0);
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    expect(spec.containers[0]?.startupProbe).toBeUndefined();
    // Exempt by policy, not by selector: the webhook saw it and skipped it.
    const seen = await c.reviewsOf('gpu-operator', 'device-plugin', 2);
    expect(seen.map((r) => `${String(r['endpoint'])}:${String(r['decision'])}`).sort()).toEqual(['mutate:skipped', 'validate:skipped']);
  });

  it('never sees its own namespace gpu-admission: a GPU Pod strict-default would deny is stored unchanged', async () => {
    const body = pod('own-namespace', { containers: [{ name: 'c', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }] });
    const created = await create(WEBHOOK_NAMESPACE, body);
    const spec = created.spec as V1PodSpec;
    expect(spec.tolerations).toEqual(DEFAULT_TOLERATIONS);
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.priority).toBe(0);
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    expect(c.webhookReviews().filter((r) => r['namespace'] === WEBHOOK_NAMESPACE)).toEqual([]);
  });

  it('keeps a PriorityClass the user chose when the namespace allows it (research)', async () => {
    const created = await create('research', pod('sweep', { priorityClassName: 'research' }));
    expect(created.spec?.priorityClassName).toBe('research');
    expect(created.spec?.priority).toBe(1_000);
    expect(created.spec?.terminationGracePeriodSeconds).toBe(300);
    expect(created.spec?.tolerations).toEqual([...DEFAULT_TOLERATIONS, GPU_TOLERATION]);
  });

  describe('cluster awareness (informers)', () => {
    const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
      const end = Date.now() + 15_000;
      while (!(await check())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const stored = async (ns: string, name: string): Promise<V1PodSpec> => (await create(ns, pod(name))).spec as V1PodSpec;

    it('governs a namespace by its live labels and follows a label change', async () => {
      const ns = await c.ensureNamespace('ml-team');
      await c.core.patchNamespace({ name: 'ml-team', body: [{ op: 'add', path: '/metadata/labels/gpu-admission.io~1profile', value: 'training' }] });
      expect(ns.metadata?.name).toBe('ml-team');
      // The namespace was created just now: the first review may come before the watch event, and
      // is then judged after a fresh read.
      await until('the training policy in ml-team', async () => {
        const spec = await stored('ml-team', `t-${Date.now()}`);
        return spec.terminationGracePeriodSeconds === 600 && spec.priorityClassName === 'training-batch';
      });
      await c.core.patchNamespace({ name: 'ml-team', body: [{ op: 'replace', path: '/metadata/labels/gpu-admission.io~1profile', value: 'notebook' }] });
      await until('the notebooks policy in ml-team', async () => (await stored('ml-team', `n-${Date.now()}`)).terminationGracePeriodSeconds === 60);
    });

    it('never injects a default PriorityClass that does not exist: the Pod is created with a warning', async () => {
      await c.scheduling.deletePriorityClass({ name: 'training-batch' });
      try {
        let warnings: string[] = [];
        await until('the webhook to see the class gone', async () => {
          const res = await c.core.createNamespacedPodWithHttpInfo({ namespace: 'training', body: pod(`no-class-${Date.now()}`) });
          warnings = warningTexts(res.headers['warning']);
          return res.data.spec?.priorityClassName === undefined;
        });
        expect(warnings.some((w) => w.includes('default PriorityClass training-batch does not exist'))).toBe(true);
      } finally {
        await c.scheduling.createPriorityClass({ body: { metadata: { name: 'training-batch' }, value: PRIORITY_CLASSES['training-batch'] } });
      }
      await until('the class back', async () => (await stored('training', `class-back-${Date.now()}`)).priorityClassName === 'training-batch');
    });
  });

  describe('gpu-admission audit --cluster', () => {
    const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
      execFile(process.execPath, [join(ROOT, 'dist/main.js'), 'audit', '--cluster', '--kubeconfig', join(c.dir, 'kubeconfig'), '--policies', join(ROOT, 'policies'), ...args],
        { cwd: ROOT, maxBuffer: 32 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });

    it('says how to install the PolicyReport CRD when it is missing', async () => {
      const r = await cli(['-A', '--write-reports', '-o', 'json']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('kubectl apply -f manifests/policyreport-crd.yaml');
    });

    it('audits the live objects and writes one PolicyReport per namespace, idempotently', async () => {
      const objects = KubernetesObjectApi.makeApiClient(c.kc);
      const crds = parseYamlDocuments(readFileSync(join(ROOT, 'manifests/policyreport-crd.yaml'), 'utf8')).map((d) => d.value as KubernetesObject);
      for (const crd of crds) await objects.create(crd);
      const custom = c.kc.makeApiClient(CustomObjectsApi);
      const list = (namespace: string) => custom.listNamespacedCustomObject({ group: 'wgpolicyk8s.io', version: 'v1alpha2', namespace, plural: 'policyreports' }) as Promise<{ items: Array<Record<string, any>> }>;
      const end = Date.now() + 20_000;
      while (await list('default').then(() => false, () => true)) {
        if (Date.now() > end) throw new Error('PolicyReport CRD not established');
        await new Promise((r) => setTimeout(r, 200));
      }
      // The webhook never sees its own namespace: a GPU Pod there is what only an audit finds. By
      // default the audit reports such objects as excluded, as the webhook would; '' judges them.
      await create(WEBHOOK_NAMESPACE, pod('audit-finds-me', { containers: [{ name: 'c', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }] }));
      const first = await cli(['-A', '--write-reports', '-o', 'json', '--excluded-namespaces', '']);
      expect(first.code, first.stderr).toBe(1);
      const report = JSON.parse(first.stdout) as { results: Array<Record<string, any>> };
      const mine = report.results.find((r) => r['name'] === 'audit-finds-me');
      expect(mine?.['verdict']).toBe('denied');
      expect(mine?.['file']).toBe(`cluster:${WEBHOOK_NAMESPACE}/Pod/audit-finds-me`);
      const inference = report.results.find((r) => r['namespace'] === 'inference' && r['name'] === 'vllm-l4');
      expect(inference?.['verdict']).not.toBe('denied');
      const [stored] = (await list(WEBHOOK_NAMESPACE)).items;
      expect(stored?.['metadata']?.['managedFields']?.[0]?.['manager']).toBe('gpu-admission');
      expect(stored?.['results'].some((r: Record<string, any>) => r['result'] === 'fail' && r['rule'] === 'accelerator-allowed' && r['resources'][0]['name'] === 'audit-finds-me')).toBe(true);
      // Judged, not failed: with the cluster's Nodes in view (none here offers a GPU), the pending
      // Pods there also get node-availability's advisory warning.
      const summary = (await list('inference')).items[0]?.['summary'] as Record<string, number> | undefined;
      expect((summary?.['pass'] ?? 0) + (summary?.['warn'] ?? 0)).toBeGreaterThan(0);
      expect(summary?.['fail'] ?? 0).toBe(0);
      const again = await cli(['-A', '--write-reports', '-o', 'json', '--excluded-namespaces', '']);
      expect(again.code).toBe(1);
      expect((await list(WEBHOOK_NAMESPACE)).items).toHaveLength(1);
    });
  });
});

/**
 * The namespace-labels guard, on: a tenant allowed to create and update namespaces (a self-service
 * portal, Capsule, HNC) may not pick its own policy by label. The default policy names the platform
 * (system:masters, the harness's admin); the tenant is a ServiceAccount with an explicit ClusterRole.
 */
describe.skipIf(!ASSETS)('the namespace-labels guard in front of kube-apiserver', () => {
  let c: Cluster;
  let tenant: CoreV1Api;
  const PROFILE = 'gpu-admission.io/profile';
  const policiesDir = mkdtempSync(join(tmpdir(), 'gpa-e2e-guard-'));
  const GUARD = 'admission webhook "namespace-labels.gpu-admission.io" denied the request: ';

  beforeAll(async () => {
    cpSync(join(ROOT, 'policies'), policiesDir, { recursive: true });
    const file = join(policiesDir, 'default.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('  default: true\n');
    writeFileSync(file, text.replace('  default: true\n', '  default: true\n  namespaceLabelAdmins: {groups: [system:masters]}\n'));
    c = await startCluster({ policiesDir });
    await c.ensureNamespace('default');
    const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
    await c.core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'tenant' } } });
    // Explicit grants: no controller-manager runs here to aggregate roles.
    await rbac.createClusterRole({ body: { metadata: { name: 'e2e-namespace-self-service' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'create', 'update', 'patch'] }] } });
    await rbac.createClusterRoleBinding({ body: {
      metadata: { name: 'e2e-namespace-self-service' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'e2e-namespace-self-service' },
      subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: 'default' }],
    } });
    const tr = await c.core.createNamespacedServiceAccountToken({ name: 'tenant', namespace: 'default', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e2e', server: c.server, skipTLSVerify: true }],
      users: [{ name: 'tenant', token: tr.status?.token ?? '' }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: 'tenant' }],
      currentContext: 'e2e',
    });
    tenant = kc.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await c?.stop();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  const relabel = async (api: CoreV1Api, name: string, change: (labels: Record<string, string>) => void): Promise<V1Namespace> => {
    const ns = await api.readNamespace({ name });
    const labels = { ...ns.metadata?.labels };
    change(labels);
    return api.replaceNamespace({ name, body: { ...ns, metadata: { ...ns.metadata, labels } } });
  };
  async function expectGuarded(call: Promise<unknown>, fragment: string): Promise<void> {
    const r = await refusal(call);
    expect(r, r.message).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(r.message.startsWith(GUARD), r.message).toBe(true);
    expect(r.message).toContain(fragment);
    expect(r.message).toContain('only group system:masters may set it (spec.namespaceLabelAdmins of strict-default)');
  }

  it('a tenant may not create a namespace with a profile label, and may create one without', async () => {
    await expectGuarded(tenant.createNamespace({ body: { metadata: { name: 'team-self', labels: { [PROFILE]: 'training' } } } }), `[namespace-labels] metadata.labels["${PROFILE}"]: the request adds ${PROFILE}="training"`);
    await expect(tenant.readNamespace({ name: 'team-self' }).then(() => 'exists', () => 'absent')).resolves.toBe('absent');
    const created = await tenant.createNamespace({ body: { metadata: { name: 'team-self', labels: { team: 'a' } } } });
    expect(created.metadata?.labels?.['team']).toBe('a');
  });

  it('a tenant may change labels no policy reads, but not add, change or remove the profile', async () => {
    await c.ensureNamespace('team-self');
    const renamed = await relabel(tenant, 'team-self', (l) => { l['team'] = 'b'; });
    expect(renamed.metadata?.labels?.['team']).toBe('b');
    await expectGuarded(relabel(tenant, 'team-self', (l) => { l[PROFILE] = 'research'; }), `the request adds ${PROFILE}="research"`);
    // The platform sets it; the tenant can neither change nor remove it afterwards.
    const labelled = await relabel(c.core, 'team-self', (l) => { l[PROFILE] = 'training'; });
    expect(labelled.metadata?.labels?.[PROFILE]).toBe('training');
    await expectGuarded(relabel(tenant, 'team-self', (l) => { l[PROFILE] = 'research'; }), `the request changes ${PROFILE} from "training" to "research"`);
    await expectGuarded(relabel(tenant, 'team-self', (l) => { delete l[PROFILE]; }), `the request removes ${PROFILE} (was "training")`);
    expect((await c.core.readNamespace({ name: 'team-self' })).metadata?.labels?.[PROFILE]).toBe('training');
    // An update that leaves the profile alone goes through.
    expect((await relabel(tenant, 'team-self', (l) => { l['team'] = 'c'; })).metadata?.labels?.[PROFILE]).toBe('training');
  });
});
