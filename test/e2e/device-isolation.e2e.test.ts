/**
 * The GPU device-isolation rules (visible-devices, privileged-accelerator, device-hostpath) in
 * front of a real kube-apiserver started with --allow-privileged=true, as real clusters are: a
 * Pod the API server itself accepts is denied by the webhook, naming the field; the same Pod in
 * the exempt gpu-operator namespace is stored.
 */
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS, type Cluster, logsOnFailure, refusal, startCluster, VALIDATING_WEBHOOK } from './cluster.js';

const NAMESPACES = ['research', 'gpu-operator'];
const DENIED = `admission webhook "${VALIDATING_WEBHOOK}" denied the request: `;

function ctr(overrides: Partial<V1Container> = {}): V1Container {
  return { name: 'main', image: 'registry.k8s.io/pause:3.9', resources: { limits: { 'nvidia.com/gpu': '1', memory: '4Gi' } }, ...overrides };
}
const pod = (name: string, spec: Partial<V1PodSpec> = {}): V1Pod => ({ metadata: { name }, spec: { containers: [ctr()], ...spec } });

const CASES: Array<[string, V1Pod, string]> = [
  ['NVIDIA_VISIBLE_DEVICES=all beside a one-GPU limit', pod('visible-all', { containers: [ctr({ env: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }] })] }),
    '[visible-devices] spec.containers[0].env[0]: '],
  ['a privileged GPU container', pod('privileged', { containers: [ctr({ securityContext: { privileged: true } })] }),
    '[privileged-accelerator] spec.containers[0].securityContext.privileged: '],
  ['SYS_ADMIN on a CPU Pod tolerating every taint', pod('sys-admin', {
    tolerations: [{ operator: 'Exists' }],
    containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }],
  }), '[privileged-accelerator] spec.containers[0].securityContext.capabilities.add[0]: '],
  ['a hostPath of /dev/ (trailing slash)', pod('host-dev', { volumes: [{ name: 'dev', hostPath: { path: '/dev/' } }] }),
    '[device-hostpath] spec.volumes[0].hostPath.path: '],
];

describe.skipIf(!ASSETS)('GPU device isolation in front of kube-apiserver (--allow-privileged=true)', () => {
  let c: Cluster;

  beforeAll(async () => {
    c = await startCluster({ verbose: true });
    for (const name of NAMESPACES) await c.ensureNamespace(name);
    await c.scheduling.createPriorityClass({ body: { metadata: { name: 'research' }, value: 1_000, description: 'e2e research' } });
  });

  afterAll(async () => {
    await c?.stop();
  });

  logsOnFailure(() => c);

  it.each(CASES)('denies %s in research, naming the field', async (_n, body, finding) => {
    const r = await refusal(c.core.createNamespacedPod({ namespace: 'research', body }));
    expect(r, r.message).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(r.message.startsWith(`${DENIED}Pod research/${body.metadata?.name} violates NamespacePolicy "research"`)).toBe(true);
    expect(r.message).toContain(finding);
    expect((await refusal(c.core.readNamespacedPod({ namespace: 'research', name: body.metadata?.name ?? '' }))).code).toBe(404);
  });

  it.each(CASES)('stores %s in the exempt namespace gpu-operator', async (_n, body) => {
    const created = await c.core.createNamespacedPod({ namespace: 'gpu-operator', body });
    expect(created.metadata?.name).toBe(body.metadata?.name);
  });

  it('admits NVIDIA_VISIBLE_DEVICES=void and a /dev/shm hostPath in research', async () => {
    const body = pod('visible-void', {
      containers: [ctr({ env: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'void' }] })],
      volumes: [{ name: 'shm', hostPath: { path: '/dev/shm' } }],
    });
    const created = await c.core.createNamespacedPod({ namespace: 'research', body });
    expect(created.spec?.containers[0]?.env).toEqual([{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'void' }]);
  });
});
