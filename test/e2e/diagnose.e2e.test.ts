/**
 * `gpu-admission diagnose` against a real kube-apiserver and kube-scheduler (v1.20.2) with the
 * webhook in front: fake Nodes with labels, taints and accelerator capacity/allocatable (status
 * subresource), a Pod bound to a Node holding its only GPU, FailedScheduling events written by the
 * real scheduler (the 1.20 message format), a Deployment whose ReplicaSet the ResourceQuota refuses,
 * a Pod the policies, changed since, would now deny, and reads refused by RBAC (impersonated user).
 */
import type { CoreV1Event, V1Container, V1Node } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, logsOnFailure, ROOT, sleep, startCluster } from './cluster.js';

const GKE = 'cloud.google.com/gke-accelerator';
const TYPE = 'node.kubernetes.io/instance-type';
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

function ctr(limits: Record<string, string>): V1Container {
  return { name: 'server', image: 'registry.k8s.io/pause:3.9', resources: { limits: { memory: '4Gi', ...limits }, requests: { cpu: '1' } }, readinessProbe: { tcpSocket: { port: 8000 } } };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!ASSETS)('diagnose with the real kube-scheduler', () => {
  let c: Cluster;
  let kubeconfig: string;
  let changedPolicies: string;

  async function createNode(name: string, labels: Record<string, string>, taints: Array<{ key: string; value?: string; effect: string }>, gpus: Record<string, string>): Promise<void> {
    await c.core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels } }, spec: { taints } } });
    const node: V1Node = await c.core.readNode({ name });
    const now = new Date();
    const allocatable = { cpu: '32', memory: '256Gi', pods: '110', ...gpus };
    node.status = { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node', lastHeartbeatTime: now, lastTransitionTime: now }] };
    await c.core.replaceNodeStatus({ name, body: node });
    const ready = await c.core.readNode({ name });
    ready.spec = { ...ready.spec, taints: (ready.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready') };
    await c.core.replaceNode({ name, body: ready });
  }

  async function failedScheduling(ns: string, name: string, timeoutMs = 20_000): Promise<CoreV1Event> {
    for (const deadline = Date.now() + timeoutMs; ; await sleep(250)) {
      const e = (await c.core.listNamespacedEvent({ namespace: ns })).items.find((x) => x.reason === 'FailedScheduling' && x.involvedObject.name === name);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no FailedScheduling event for ${ns}/${name}`);
    }
  }

  function diagnose(args: string[], policies = join(ROOT, 'policies')): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, [join(ROOT, 'dist/main.js'), 'diagnose', ...args, '--kubeconfig', kubeconfig, '--policies', policies, '--timeout', '20'], { cwd: ROOT, encoding: 'utf8' },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  }

  const json = async (args: string[], policies?: string): Promise<{ code: number; report: Record<string, any> }> => {
    const r = await diagnose([...args, '-o', 'json'], policies);
    if (!r.stdout) throw new Error(`diagnose ${args.join(' ')} printed nothing (exit ${r.code}): ${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) as Record<string, any> };
  };

  const stepOf = (report: Record<string, any>, id: string): Record<string, any> => report['pods'][0].steps.find((s: { id: string }) => s.id === id);

  beforeAll(async () => {
    c = await startCluster({ verbose: true, controllers: true, scheduler: true });
    kubeconfig = join(c.dir, 'diagnose-kubeconfig');
    writeFileSync(kubeconfig, c.kc.exportConfig(), { mode: 0o600 });
    for (const ns of ['inference', 'research']) await c.ensureNamespace(ns);
    for (const [name, value] of Object.entries({ 'inference-critical': 1_000_000, research: 1_000 })) {
      await c.scheduling.createPriorityClass({ body: { metadata: { name }, value } });
    }
    await createNode('diag-l4-busy', { [GKE]: 'nvidia-l4', [TYPE]: 'diag-busy' }, [GPU_TAINT], { 'nvidia.com/gpu': '1' });
    await createNode('diag-l4-maint', { [GKE]: 'nvidia-l4', [TYPE]: 'diag-maint' }, [GPU_TAINT, { key: 'maintenance', value: 'true', effect: 'NoSchedule' }], { 'nvidia.com/gpu': '2' });
    await createNode('diag-cpu', { [TYPE]: 'diag-cpu' }, [], {});
    // The AMD device plugin exists but runs nowhere (no node carries its selector's label).
    await c.apps.createNamespacedDaemonSet({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'amdgpu-device-plugin-daemonset' },
        spec: {
          selector: { matchLabels: { name: 'amdgpu-dp-ds' } },
          template: { metadata: { labels: { name: 'amdgpu-dp-ds' } }, spec: { nodeSelector: { 'feature.node.kubernetes.io/amd-gpu': 'true' }, containers: [{ name: 'plugin', image: 'rocm/k8s-device-plugin' }] } },
        },
      },
    });
    // The webhook's view and the scheduler's cache see the Nodes shortly after.
    await sleep(1500);
    // The only GPU of diag-l4-busy, held by a Pod bound there (no kubelet: it stays bound, Pending).
    await c.core.createNamespacedPod({ namespace: 'inference', body: { metadata: { name: 'holder' }, spec: { nodeName: 'diag-l4-busy', priorityClassName: 'inference-critical', containers: [ctr({ 'nvidia.com/gpu': '1' })] } } });
    await c.core.createNamespacedPod({ namespace: 'inference', body: { metadata: { name: 'server-busy' }, spec: { priorityClassName: 'inference-critical', nodeSelector: { [TYPE]: 'diag-busy' }, containers: [ctr({ 'nvidia.com/gpu': '1' })] } } });
    await c.core.createNamespacedPod({ namespace: 'inference', body: { metadata: { name: 'server-maint' }, spec: { priorityClassName: 'inference-critical', nodeSelector: { [TYPE]: 'diag-maint' }, containers: [ctr({ 'nvidia.com/gpu': '1' })] } } });
    await c.core.createNamespacedPod({ namespace: 'research', body: { metadata: { name: 'rocm' }, spec: { priorityClassName: 'research', containers: [ctr({ 'amd.com/gpu': '1' })] } } });
    // Admitted today with 2 GPUs; the changed policies below allow 1 per Pod.
    await c.core.createNamespacedPod({ namespace: 'research', body: { metadata: { name: 'two-gpus' }, spec: { nodeName: 'diag-l4-maint', priorityClassName: 'research', containers: [ctr({ 'nvidia.com/gpu': '2' })] } } });
    changedPolicies = join(c.dir, 'changed-policies');
    cpSync(join(ROOT, 'policies'), changedPolicies, { recursive: true });
    const research = join(changedPolicies, 'research.yaml');
    writeFileSync(research, readFileSync(research, 'utf8').replace('maxPerPod: 8', 'maxPerPod: 1'));
    // A quota used up: the Deployment's ReplicaSet cannot create its Pod.
    // The harness runs no quota controller: status is written as it would write it (two-gpus holds 2).
    const quota = await c.core.createNamespacedResourceQuota({ namespace: 'research', body: { metadata: { name: 'gpu' }, spec: { hard: { 'requests.nvidia.com/gpu': '2' } } } });
    quota.status = { hard: { 'requests.nvidia.com/gpu': '2' }, used: { 'requests.nvidia.com/gpu': '2' } };
    await c.core.replaceNamespacedResourceQuotaStatus({ namespace: 'research', name: 'gpu', body: quota });
    const labels = { app: 'llm' };
    await c.apps.createNamespacedDeployment({
      namespace: 'research',
      body: { metadata: { name: 'llm' }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { priorityClassName: 'research', containers: [ctr({ 'nvidia.com/gpu': '1' })] } } } },
    });
  });

  afterAll(async () => {
    await c?.stop();
  });

  logsOnFailure(() => c);

  it('used up: the node that fits has its only GPU held by a bound Pod of equal priority', async () => {
    const event = await failedScheduling('inference', 'server-busy');
    expect(event.message).toMatch(/^0\/3 nodes are available: .*1 Insufficient nvidia\.com\/gpu/);
    const { code, report } = await json(['pod/server-busy', '-n', 'inference']);
    expect(code).toBe(1);
    expect(report['verdict']).toBe('Pending because the 1 node(s) that fit have too few free nvidia.com/gpu (needs 1 per Pod)');
    expect(stepOf(report, 'scheduler').status).toBe('cause');
    expect(report['pods'][0].scheduler.reasons).toEqual(expect.arrayContaining([{ count: 1, text: 'Insufficient nvidia.com/gpu', kind: 'insufficient', resource: 'nvidia.com/gpu' }]));
    const free = stepOf(report, 'free');
    expect(free.evidence).toContain('node/diag-l4-busy nvidia.com/gpu: allocatable 1, requested by bound Pods 1, free 0 (needs 1)');
    expect(free.evidence).toContain('  held by pod/holder -n inference: 1 nvidia.com/gpu, priority 1000000 (inference-critical)');
    expect(free.fix).toMatch(/^no lower-priority Pod to preempt/);
  });

  it('untolerated taint: the webhook added the GPU toleration, the maintenance taint remains', async () => {
    const event = await failedScheduling('inference', 'server-maint');
    expect(event.message).toContain("had taint {maintenance: true}, that the pod didn't tolerate");
    const r = await diagnose(['pod/server-maint', '-n', 'inference']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('Pending because every node that would otherwise fit has a taint the Pod does not tolerate');
    expect(r.stdout).toContain('node/diag-l4-maint spec.taints: maintenance=true:NoSchedule');
    expect(r.stdout).toContain('fix: add to spec.tolerations: [{"key":"maintenance","operator":"Equal","value":"true","effect":"NoSchedule"}]');
  });

  it('no node advertises amd.com/gpu: names the device plugin DaemonSet and that it runs nowhere', async () => {
    await failedScheduling('research', 'rocm');
    const { code, report } = await json(['pod/rocm', '-n', 'research']);
    expect(code).toBe(1);
    expect(report['verdict']).toBe('Pending because no node advertises amd.com/gpu (device plugin missing or unhealthy)');
    expect(stepOf(report, 'advertised').evidence).toContain('daemonset/amdgpu-device-plugin-daemonset -n kube-system status: desired 0, ready 0, available 0');
  });

  it('--pending lists every Pending accelerator Pod of the namespace, bound ones aside', async () => {
    const { code, report } = await json(['--pending', '-n', 'inference']);
    expect(code).toBe(1);
    expect(report['pods'].map((p: { name: string }) => p.name).sort()).toEqual(['server-busy', 'server-maint']);
  });

  it('quota used up: the Deployment has no Pod and its ReplicaSet\'s FailedCreate says why', async () => {
    for (const deadline = Date.now() + 20_000; ; await sleep(250)) {
      const events = (await c.core.listNamespacedEvent({ namespace: 'research' })).items;
      if (events.some((e) => e.reason === 'FailedCreate' && /exceeded quota/.test(e.message ?? ''))) break;
      if (Date.now() > deadline) throw new Error('no FailedCreate event');
    }
    const { code, report } = await json(['deployment/llm', '-n', 'research']);
    expect(code).toBe(1);
    expect(report['verdict']).toBe("deployment/llm has missing Pods because the namespace's quota is used up: resourcequota/gpu requests.nvidia.com/gpu (2/2)");
    expect(report['workload'][0].evidence).toContain('resourcequota/gpu -n research requests.nvidia.com/gpu: used 2 of hard 2');
  });

  it('a Pod the changed policies would now deny', async () => {
    const { report } = await json(['pod/two-gpus', '-n', 'research'], changedPolicies);
    const s = stepOf(report, 'webhook');
    expect(s.status).toBe('cause');
    expect(s.summary).toMatch(/^the webhook would now deny it \(policy research as it is today; a re-created Pod is refused\)/);
    const today = await json(['pod/two-gpus', '-n', 'research']);
    expect(stepOf(today.report, 'webhook').status).toBe('ok');
  });

  it('RBAC: a refused read of the target names the permission; refused cluster reads degrade to "could not tell"', async () => {
    // The admin impersonates a user who may only read Pods and events of namespace research.
    const cfg = JSON.parse(c.kc.exportConfig()) as { users: Array<{ user: Record<string, unknown> }> };
    for (const u of cfg.users) u.user['as'] = 'e2e-triager';
    const limited = join(c.dir, 'diagnose-limited-kubeconfig');
    writeFileSync(limited, JSON.stringify(cfg), { mode: 0o600 });
    const run = (args: string[]): Promise<Run> => new Promise((resolve) => {
      execFile(process.execPath, [join(ROOT, 'dist/main.js'), 'diagnose', ...args, '--kubeconfig', limited, '--policies', join(ROOT, 'policies')], { cwd: ROOT, encoding: 'utf8' },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    const refused = await run(['pod/rocm', '-n', 'research']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('cannot get pods in namespace research: forbidden by RBAC: grant verb "get" on resource "pods"');

    const rbac = 'rbac.authorization.k8s.io/v1';
    const { KubernetesObjectApi } = await import('@kubernetes/client-node');
    const objects = KubernetesObjectApi.makeApiClient(c.kc);
    await objects.create({ apiVersion: rbac, kind: 'Role', metadata: { name: 'triage', namespace: 'research' }, rules: [{ apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list'] }] } as never);
    await objects.create({ apiVersion: rbac, kind: 'RoleBinding', metadata: { name: 'triage', namespace: 'research' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'triage' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'e2e-triager' }] } as never);
    let partial: Run | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(500)) {
      partial = await run(['pod/rocm', '-n', 'research', '-o', 'json']);
      if (partial.stdout) break;
    }
    const report = JSON.parse(partial!.stdout) as Record<string, any>;
    expect(report['unreadable']).toEqual(expect.arrayContaining([{ verb: 'list', resource: 'nodes', message: 'forbidden by RBAC: grant verb "list" on resource "nodes" (cluster-wide) — see docs/diagnose.md' }]));
    expect(stepOf(report, 'scheduler').status).toBe('cause');
    expect(stepOf(report, 'advertised')).toMatchObject({ status: 'unknown', summary: 'nodes could not be read' });
  });

  it('a Pod that does not exist, and bad usage: exit 2', async () => {
    const missing = await diagnose(['pod/nope', '-n', 'research']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('pod not found in namespace research');
    const usage = await diagnose(['pod/x', '--pending']);
    expect(usage.code).toBe(2);
  });
});
