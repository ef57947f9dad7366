/**
 * `gpu-admission onboard --apply` against a real kube-apiserver (v1.20.2): a server dry run creates
 * nothing; the real run creates the PriorityClass, the Namespace and the quotas by server-side apply
 * and writes the policy into the webhook's (watched) policy directory; a second run changes
 * nothing; Pods in the namespace are mutated and checked as the inference profile says, and the
 * API server itself enforces the GPU quota.
 */
import type { V1Container, V1Pod, V1ResourceQuota } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, logsOnFailure, refusal, ROOT, SKIP_MESSAGE, sleep, startCluster, VALIDATING_WEBHOOK } from './cluster.js';

const NS = 'team-a';
/** The profile's quota is 16; 2 makes the API server's enforcement quick to show. */
const ONBOARD = ['onboard', NS, '--profile', 'inference', '--pools', 'l4,a100-80gb', '--gpu-quota', '2', '--max-gpus-per-pod', '2'];

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function server(gpus: string, withMemory = true): V1Container {
  return {
    name: 'server',
    image: 'vllm/vllm-openai:v0.10.0',
    resources: { limits: { 'nvidia.com/gpu': gpus, ...(withMemory ? { memory: '4Gi' } : {}) }, requests: { cpu: '1' } },
    readinessProbe: { httpGet: { path: '/health', port: 8000 } },
  };
}

const pod = (name: string, container: V1Container): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [container] } });

if (!ASSETS) {
  describe.skip('gpu-admission onboard end-to-end (KUBEBUILDER_ASSETS is not set)', () => {
    it(SKIP_MESSAGE, () => undefined);
  });
}

describe.skipIf(!ASSETS)('gpu-admission onboard against kube-apiserver', () => {
  let c: Cluster;
  let policies: string;
  const started = Date.now();

  beforeAll(async () => {
    // A copy of the shipped policies: onboarding writes the new policy into it and the webhook reloads.
    policies = mkdtempSync(join(tmpdir(), 'gpa-e2e-policies-'));
    for (const name of readdirSync(join(ROOT, 'policies'))) {
      if (statSync(join(ROOT, 'policies', name)).isFile()) cpSync(join(ROOT, 'policies', name), join(policies, name));
    }
    c = await startCluster({ verbose: true, policiesDir: policies });
  });

  afterAll(async () => {
    await c?.stop();
    if (policies) rmSync(policies, { recursive: true, force: true });
    process.stderr.write(`[e2e] onboard suite finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  logsOnFailure(() => c);

  const onboard = (args: string[]): Promise<CliResult> => new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/main.js'), ...ONBOARD, '--policies', policies, '--kubeconfig', join(c.dir, 'kubeconfig'), ...args],
      { cwd: ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });

  async function absent(read: Promise<unknown>): Promise<void> {
    expect((await refusal(read)).code).toBe(404);
  }

  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last: ${last})` : ''}`);
      await sleep(200);
    }
  }

  const resourceVersions = async (): Promise<string[]> => [
    (await c.core.readNamespace({ name: NS })).metadata?.resourceVersion ?? '',
    (await c.core.readNamespacedResourceQuota({ namespace: NS, name: 'gpu-admission-accelerators' })).metadata?.resourceVersion ?? '',
    (await c.core.readNamespacedResourceQuota({ namespace: NS, name: 'gpu-admission-priority' })).metadata?.resourceVersion ?? '',
    (await c.scheduling.readPriorityClass({ name: 'inference-critical' })).metadata?.resourceVersion ?? '',
  ];

  it('--apply --dry-run=server sends everything the server can judge as a dry run, and creates nothing, not even files', async () => {
    const r = await onboard(['--apply', '--dry-run=server', '--out', policies]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('priorityclass/inference-critical would create (server dry run)');
    expect(r.stderr).toContain(`namespace/${NS} would create (server dry run)`);
    expect(r.stderr).toContain(`resourcequota/gpu-admission-accelerators (namespace ${NS}) skipped: namespace ${NS} does not exist yet and a dry run creates nothing: not sent`);
    expect(r.stdout).toContain(`${policies}/${NS}.policy.yaml would be created (dry run: not written)`);
    await absent(c.core.readNamespace({ name: NS }));
    await absent(c.scheduling.readPriorityClass({ name: 'inference-critical' }));
    expect(existsSync(join(policies, `${NS}.policy.yaml`))).toBe(false);
  });

  it('--apply creates the PriorityClass, Namespace and quotas by server-side apply and writes the policy the webhook loads', async () => {
    const r = await onboard(['--apply', '--out', policies]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${policies}/${NS}.policy.yaml created`);
    for (const line of ['priorityclass/inference-critical created', `namespace/${NS} created`,
      `resourcequota/gpu-admission-accelerators (namespace ${NS}) created`, `resourcequota/gpu-admission-priority (namespace ${NS}) created`]) {
      expect(r.stderr).toContain(line);
    }
    const ns = await c.core.readNamespace({ name: NS });
    expect(ns.metadata?.labels?.['gpu-admission.io/policy']).toBe(NS);
    expect(ns.metadata?.managedFields?.some((f) => f.manager === 'gpu-admission' && f.operation === 'Apply')).toBe(true);
    const pc = await c.scheduling.readPriorityClass({ name: 'inference-critical' });
    expect([pc.value, pc.preemptionPolicy, pc.globalDefault ?? false]).toEqual([1_000_000, 'PreemptLowerPriority', false]);
    const quota = await c.core.readNamespacedResourceQuota({ namespace: NS, name: 'gpu-admission-accelerators' });
    expect(quota.spec?.hard).toEqual({ 'requests.nvidia.com/gpu': '2' });
    const scoped = await c.core.readNamespacedResourceQuota({ namespace: NS, name: 'gpu-admission-priority' });
    expect(scoped.spec?.scopeSelector?.matchExpressions).toEqual([{ scopeName: 'PriorityClass', operator: 'In', values: ['inference-critical'] }]);

    // The webhook watches its policy directory: the new policy is loaded without a restart.
    await until('the webhook to load the new policy', async () => {
      const lines = readFileSync(join(c.dir, 'webhook.log'), 'utf8').split('\n').filter((l) => l.includes('"event":"policies-loaded"'));
      return lines.some((l) => (JSON.parse(l) as { policies?: string[] }).policies?.includes(NS)) ? true : undefined;
    });
  });

  it('a second run changes nothing: same files, same objects (resourceVersions)', async () => {
    const before = await resourceVersions();
    const r = await onboard(['--apply', '--out', policies]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${policies}/${NS}.policy.yaml unchanged`);
    // The class exists now: it is left alone rather than applied again.
    expect(r.stdout).not.toContain('priorityclass');
    expect(r.stderr).toContain(`namespace/${NS} unchanged`);
    expect(r.stderr).toContain(`resourcequota/gpu-admission-accelerators (namespace ${NS}) unchanged`);
    expect(await resourceVersions()).toEqual(before);
  });

  describe('Pods in the onboarded namespace', () => {
    beforeAll(async () => {
      // No kube-controller-manager runs here: set what its quota controller would, the hard limits
      // and zero usage of the new, empty namespace. The quota admission plugin counts from there.
      for (const name of ['gpu-admission-accelerators', 'gpu-admission-priority']) {
        const q = await c.core.readNamespacedResourceQuota({ namespace: NS, name });
        const hard = q.spec?.hard ?? {};
        const body: V1ResourceQuota = { ...q, status: { hard, used: Object.fromEntries(Object.keys(hard).map((k) => [k, '0'])) } };
        await c.core.replaceNamespacedResourceQuotaStatus({ namespace: NS, name, body });
      }
      // The webhook's PriorityClass informer has to see the new class before it injects it.
      await until('the webhook to inject inference-critical', async () => {
        const p = await c.core.createNamespacedPod({ namespace: NS, body: pod(`probe-${Date.now()}`, server('1')), dryRun: 'All' });
        return p.spec?.priorityClassName === 'inference-critical' ? true : undefined;
      });
    });

    it('a container without a memory limit is denied by the webhook, naming the onboarded policy', async () => {
      const r = await refusal(c.core.createNamespacedPod({ namespace: NS, body: pod('no-memory', server('1', false)) }));
      expect(r.code).toBe(403);
      expect(r.message).toContain(`admission webhook "${VALIDATING_WEBHOOK}" denied the request: Pod ${NS}/no-memory violates NamespacePolicy "${NS}" (mode enforce, ${NS}.policy.yaml)`);
      expect(r.message).toContain('[container-resources]');
    });

    it('more GPUs per Pod than the profile allows are denied', async () => {
      const r = await refusal(c.core.createNamespacedPod({ namespace: NS, body: pod('three', server('3')) }));
      expect(r.code).toBe(403);
      expect(r.message).toContain('[accelerator-quantity]');
    });

    it('a correct model server gets the pool, the start-up budget, the drain grace and the priority', async () => {
      await c.core.createNamespacedPod({ namespace: NS, body: pod('server-1', server('2')) });
      const stored = await c.core.readNamespacedPod({ namespace: NS, name: 'server-1' });
      const spec = stored.spec!;
      expect(spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
      expect(spec.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' });
      expect(spec.terminationGracePeriodSeconds).toBe(120);
      expect(spec.priorityClassName).toBe('inference-critical');
      expect(spec.priority).toBe(1_000_000);
      const startup = spec.containers[0]?.startupProbe;
      expect(startup?.httpGet?.path).toBe('/health');
      expect((startup?.failureThreshold ?? 0) * (startup?.periodSeconds ?? 0)).toBeGreaterThanOrEqual(900);
    });

    it('the API server enforces the GPU quota: a third GPU is refused with its quota message', async () => {
      const r = await refusal(c.core.createNamespacedPod({ namespace: NS, body: pod('server-2', server('1')) }));
      expect(r.code).toBe(403);
      expect(r.message).toMatch(/^pods "server-2" is forbidden: exceeded quota: gpu-admission-(accelerators|priority), requested: .*requests\.nvidia\.com\/gpu=1, used: .*requests\.nvidia\.com\/gpu=2, limited: .*requests\.nvidia\.com\/gpu=2/);
      const quota = await c.core.readNamespacedResourceQuota({ namespace: NS, name: 'gpu-admission-accelerators' });
      expect(quota.status?.used?.['requests.nvidia.com/gpu']).toBe('2');
    });
  });
});
