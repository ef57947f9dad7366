import { describe, expect, it } from 'vitest';
import { ClusterCache, type EventType } from '../../src/cluster/cache.js';
import { discoverPools, poolDocuments } from '../../src/cluster/discover.js';
import { missingDefaultClasses, namespaceReader, poolMembership } from '../../src/cluster/connect.js';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { PolicyResolver } from '../../src/policy/resolve.js';
import { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES } from '../../src/workload/accelerators.js';
import { config, cpuContainer, createRequest, gpuContainer, gpuToleration, pod, policy, policySet, pools } from '../support/fixtures.js';
import { contextOf } from '../../src/audit/run.js';

type Recorded = [EventType, 'namespace' | 'node' | 'priorityClass' | 'claimTemplate', Record<string, unknown>];

/** Events as informers deliver them: list items arrive as add, then watch events. */
const EVENTS: Recorded[] = [
  ['add', 'namespace', { metadata: { name: 'research', labels: { 'kubernetes.io/metadata.name': 'research' } } }],
  ['add', 'priorityClass', { metadata: { name: 'inference-critical' }, value: 1000000, preemptionPolicy: 'PreemptLowerPriority' }],
  ['add', 'node', {
    metadata: { name: 'gke-l4-1', labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4-pool', 'kubernetes.io/hostname': 'gke-l4-1' } },
    spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
    status: { allocatable: { cpu: '47', memory: '180Gi', 'nvidia.com/gpu': '4' } },
  }],
  ['add', 'node', {
    metadata: { name: 'gke-l4-2', labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4-pool', 'kubernetes.io/hostname': 'gke-l4-2' } },
    spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
    status: { allocatable: { cpu: '95', memory: '360Gi', 'nvidia.com/gpu': '8' } },
  }],
  ['add', 'node', { metadata: { name: 'cpu-1', labels: { 'kubernetes.io/hostname': 'cpu-1' } }, status: { allocatable: { cpu: '8' } } }],
  ['add', 'claimTemplate', { metadata: { name: 'shared-gpu', namespace: 'research' }, spec: { spec: { devices: { requests: [{ name: 'g', exactly: { deviceClassName: 'gpu.nvidia.com' } }] } } } }],
  ['add', 'claimTemplate', { metadata: { name: 'nic', namespace: 'research' }, spec: { spec: { devices: { requests: [{ name: 'n', deviceClassName: 'rdma.example.com' }] } } } }],
];

function fed(events: Recorded[] = EVENTS, synced = true): ClusterCache {
  const cache = new ClusterCache();
  for (const [type, kind, obj] of events) cache[kind](type, obj as never);
  if (synced) for (const r of ['namespaces', 'nodes', 'priorityclasses', 'resourceclaimtemplates'] as const) cache.markSynced(r);
  return cache;
}

describe('cluster cache fed by informer events', () => {
  it('follows namespace labels and bumps its version on every change', () => {
    const cache = fed();
    const v = cache.version;
    cache.namespace('update', { metadata: { name: 'research', labels: { team: 'ml' } } });
    expect(cache.labels('research')).toEqual({ team: 'ml' });
    expect(cache.version).toBeGreaterThan(v);
    cache.namespace('delete', { metadata: { name: 'research' } });
    expect(cache.knowsNamespace('research')).toBe(false);
  });

  it('policies that select namespaces by label follow live labels', () => {
    const cache = fed();
    const selected = policy({ namespaces: { selector: { matchLabels: { team: 'ml' } } } }, 'ml');
    const fallback = policy({ default: true, namespaces: {} }, 'fallback');
    const r = new PolicyResolver(policySet([selected, fallback]), cache);
    expect(r.resolve('research')?.name).toBe('fallback');
    cache.namespace('update', { metadata: { name: 'research', labels: { team: 'ml' } } });
    expect(r.resolve('research')?.name).toBe('ml');
  });

  it('knows PriorityClasses only once synced, built-in system classes included', () => {
    const early = fed(EVENTS, false);
    expect(early.priorityClassExists('missing')).toBeUndefined();
    const cache = fed();
    expect(cache.priorityClassExists('inference-critical')).toBe(true);
    expect(cache.priorityClassExists('missing')).toBe(false);
    expect(cache.priorityClassExists('system-node-critical')).toBe(true);
    cache.priorityClass('delete', { metadata: { name: 'inference-critical' } });
    expect(cache.priorityClassExists('inference-critical')).toBe(false);
  });

  it('resolves claim templates to their device classes (v1 exactly and v1beta1 fields)', () => {
    const cache = fed();
    expect(cache.deviceClasses('research', 'ResourceClaimTemplate', 'shared-gpu')).toEqual(['gpu.nvidia.com']);
    expect(cache.deviceClasses('research', 'ResourceClaimTemplate', 'nic')).toEqual(['rdma.example.com']);
    expect(cache.deviceClasses('other', 'ResourceClaimTemplate', 'shared-gpu')).toBeUndefined();
  });

  it('reports nodes only once synced and drops deleted ones', () => {
    expect(fed(EVENTS, false).nodes()).toBeUndefined();
    const cache = fed();
    expect([...(cache.nodes() ?? [])].map((n) => n.name)).toEqual(['gke-l4-1', 'gke-l4-2', 'cpu-1']);
    cache.node('delete', { metadata: { name: 'cpu-1' } });
    expect([...(cache.nodes() ?? [])].map((n) => n.name)).toEqual(['gke-l4-1', 'gke-l4-2']);
  });

  it('counts the nodes of each pool from live labels', () => {
    expect(poolMembership(policySet([policy()]), fed())).toEqual({ a100: 0, l4: 2, mig: 0, mi300x: 0 });
    expect(poolMembership(policySet([policy()]), fed(EVENTS, false))).toBeUndefined();
  });

  it('lists default classes the cluster lacks', () => {
    const set = policySet([policy({ priority: { defaultClass: 'inference-critical' } }, 'a'), policy({ namespaces: { names: ['b'] }, priority: { defaultClass: 'batch' } }, 'b')]);
    expect(missingDefaultClasses(set, fed())).toEqual(['batch']);
    expect(missingDefaultClasses(set, fed(EVENTS, false))).toEqual([]);
  });
});

describe('engine with a cluster view', () => {
  const withCluster = (cache: ClusterCache, p = policy({ accelerators: { defaultPool: 'l4' }, priority: { defaultClass: 'batch' } })): Engine =>
    new Engine(new PolicyResolver(policySet([p]), cache), { ...config(), claims: cache, cluster: cache });

  it('never injects a default PriorityClass that does not exist: warns instead', () => {
    const v = withCluster(fed()).mutate(createRequest(pod({ containers: [gpuContainer()] })));
    expect(v.patch.map((op) => op.path)).not.toContain('/spec/priorityClassName');
    expect(v.warnings.map((w) => w.message).join()).toContain('default PriorityClass batch does not exist');
  });

  it('injects it once the class exists', () => {
    const cache = fed();
    cache.priorityClass('add', { metadata: { name: 'batch' }, value: 10 });
    const v = withCluster(cache).mutate(createRequest(pod({ containers: [gpuContainer()] })));
    expect(v.patch).toContainEqual({ op: 'add', path: '/spec/priorityClassName', value: 'batch' });
  });

  it('replaces the class the Priority plugin took from the globalDefault PriorityClass, and never denies it', () => {
    const cache = fed();
    cache.priorityClass('add', { metadata: { name: 'batch' }, value: 10 });
    cache.priorityClass('add', { metadata: { name: 'cluster-default' }, value: 5, globalDefault: true });
    expect(cache.globalDefaultClass()).toBe('cluster-default');
    const p = policy({ accelerators: { defaultPool: 'l4' }, priority: { defaultClass: 'batch', allowedClasses: ['batch'] } });
    const e = withCluster(cache, p);
    const spec = { containers: [gpuContainer()], priorityClassName: 'cluster-default', priority: 5, preemptionPolicy: 'PreemptLowerPriority' };
    const m = e.mutate(createRequest(pod(spec)));
    expect(m.patch).toContainEqual({ op: 'replace', path: '/spec/priorityClassName', value: 'batch' });
    expect(m.patch).toContainEqual({ op: 'remove', path: '/spec/priority' });
    expect(e.validate(createRequest(pod({ ...spec, tolerations: [gpuToleration()], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } }))).denials).toEqual([]);
    expect(e.validate(createRequest(pod({ ...spec, priorityClassName: 'other', tolerations: [gpuToleration()] }))).denials.map((f) => f.ruleId)).toContain('priority-class');
  });

  it('warns (not denies) when no node matches the selection and offers the resource', () => {
    const e = withCluster(fed());
    const a100 = e.validate(createRequest(pod({ containers: [gpuContainer()], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, tolerations: [gpuToleration()] })));
    expect(a100.denials).toEqual([]);
    expect(a100.warnings.map((w) => w.ruleId)).toContain('node-availability');
    const l4 = e.validate(createRequest(pod({ containers: [gpuContainer()], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, tolerations: [gpuToleration()] })));
    expect(l4.warnings.map((w) => w.ruleId)).not.toContain('node-availability');
  });

  it('judges a resource claim by its template device class when the cluster knows it', () => {
    const cache = fed();
    for (const [name, cls] of [['shared-gpu', 'gpu.nvidia.com'], ['nic', 'rdma.example.com']]) {
      cache.claimTemplate('add', { metadata: { name, namespace: 'team' }, spec: { spec: { devices: { requests: [{ exactly: { deviceClassName: cls } }] } } } });
    }
    const e = withCluster(cache);
    const spec = (template: string) => ({ containers: [{ name: 'c', image: 'x', resources: { claims: [{ name: 'g' }] } }], resourceClaims: [{ name: 'g', resourceClaimTemplateName: template }] });
    const gpu = e.mutate(createRequest(pod(spec('shared-gpu'))));
    expect(gpu.assumptions).toEqual([]);
    expect(gpu.notes.length).toBeGreaterThan(0);
    const nic = e.mutate(createRequest(pod(spec('nic'))));
    expect(nic.notes).toEqual([]);
  });
});

describe('pools discover', () => {
  it('groups accelerator nodes into GpuPools with their common labels, taints and resources', () => {
    const matcher = new AcceleratorMatcher(DEFAULT_ACCELERATOR_RESOURCES);
    const found = discoverPools(fed().nodeMap.values(), matcher);
    expect(found).toEqual([{
      name: 'nvidia-l4',
      nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4-pool' },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      resources: ['nvidia.com/gpu'],
      maxPerPod: 4,
    }]);
    expect(poolDocuments(found)[0]).toMatchObject({ apiVersion: 'gpu-admission.io/v1alpha1', kind: 'GpuPool', metadata: { name: 'nvidia-l4' } });
  });

  it('keeps separate groups apart and names them uniquely', () => {
    const cache = fed();
    cache.node('add', { metadata: { name: 'mig-1', labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB', 'nvidia.com/mig.strategy': 'mixed' } }, status: { allocatable: { 'nvidia.com/mig-1g.5gb': '7' } } });
    const found = discoverPools(cache.nodeMap.values(), new AcceleratorMatcher(DEFAULT_ACCELERATOR_RESOURCES));
    expect(found.map((p) => [p.name, p.resources])).toEqual([['nvidia-l4', ['nvidia.com/gpu']], ['nvidia-a100-sxm4-40gb', ['nvidia.com/mig-1g.5gb']]]);
    expect(found.map((p) => p.taints)).toEqual([[{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }], []]);
    expect(pools().length).toBeGreaterThan(0);
  });

  it('leaves out the condition taints of the node lifecycle (a not-ready node is not another pool)', () => {
    const cache = fed();
    cache.node('add', {
      metadata: { name: 'l4-new', labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4-pool' } },
      spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' }] },
      status: { allocatable: { 'nvidia.com/gpu': '4' } },
    });
    const found = discoverPools(cache.nodeMap.values(), new AcceleratorMatcher(DEFAULT_ACCELERATOR_RESOURCES));
    expect(found.map((p) => [p.name, p.taints])).toEqual([['nvidia-l4', [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]]]);
  });
});

describe('reading a namespace the cache has not seen', () => {
  it('reads once while in flight, not again for the retry period when it fails, never for known namespaces', async () => {
    const cache = fed();
    let calls = 0;
    const view = { stop: async () => undefined, readNamespace: async () => { calls += 1; await new Promise((r) => setTimeout(r, 20)); throw new Error('unreachable'); } };
    const read = namespaceReader({ cache, view, mode: 'cluster', source: 'test' }, pino({ level: 'silent' }), 1000, 60_000)!;
    await Promise.all([read('new-ns'), read('new-ns'), read('new-ns')]);
    await read('new-ns');
    expect(calls).toBe(1);
    await read('research');
    expect(calls).toBe(1);
  });

  it('puts what it read into the cache', async () => {
    const cache = fed();
    const view = { stop: async () => undefined, readNamespace: async (name: string) => cache.namespace('add', { metadata: { name, labels: { team: 'ml' } } }) };
    await namespaceReader({ cache, view, mode: 'cluster', source: 'test' }, pino({ level: 'silent' }))!('fresh');
    expect(cache.labels('fresh')).toEqual({ team: 'ml' });
  });
});

describe('DRA with a cluster view: claims and DeviceClasses decide', () => {
  const claimPod = (ref: Record<string, string>) => pod({ containers: [{ name: 'c', image: 'x', resources: { claims: [{ name: 'g' }] } }], resourceClaims: [{ name: 'g', ...ref }] });
  const noGpu = policy({ accelerators: { allowed: false } });
  const engineWith = (cache: ClusterCache, p = noGpu): Engine => new Engine(new PolicyResolver(policySet([p]), cache), { ...config(), claims: cache, cluster: cache });
  const cached = (): ClusterCache => {
    const cache = fed();
    cache.claim('add', { metadata: { name: 'nic-claim', namespace: 'team' }, spec: { devices: { requests: [{ exactly: { deviceClassName: 'rdma.example.com' } }] } } });
    cache.claim('add', { metadata: { name: 'gpu-claim', namespace: 'team' }, spec: { devices: { requests: [{ exactly: { deviceClassName: 'gpu.nvidia.com' } }] } } });
    cache.deviceClass('add', { metadata: { name: 'big-gpu' }, spec: { selectors: [{ cel: { expression: "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].productName == 'H100'" } }] } });
    cache.deviceClass('add', { metadata: { name: 'rdma.example.com' }, spec: { selectors: [{ cel: { expression: 'device.driver == "rdma.example.com"' } }] } });
    cache.deviceClass('add', { metadata: { name: 'acme-widgets' }, spec: { extendedResourceName: 'acme.io/widget', selectors: [{ cel: { expression: 'device.driver == "gpu.nvidia.com"' } }] } });
    cache.deviceClass('add', { metadata: { name: 'nic-ext' }, spec: { extendedResourceName: 'example.com/nic', selectors: [{ cel: { expression: 'device.driver == "rdma.example.com"' } }] } });
    cache.markSynced('resourceclaims');
    cache.markSynced('deviceclasses');
    return cache;
  };

  it('resolves a claim named directly (resourceClaimName) from the cache, as template claims are', () => {
    const cache = cached();
    expect(cache.deviceClasses('team', 'ResourceClaim', 'nic-claim')).toEqual(['rdma.example.com']);
    cache.claim('delete', { metadata: { name: 'nic-claim', namespace: 'team' } });
    expect(cache.deviceClasses('team', 'ResourceClaim', 'nic-claim')).toBeUndefined();
  });

  // Regression: a named claim was "device class unknown without a cluster view" in cluster mode,
  // and denied in a no-GPU namespace whatever it asked for.
  it('admits a named NIC claim in a namespace that allows no accelerators, and denies a named GPU claim', () => {
    const e = engineWith(cached());
    const nic = e.validate(createRequest(claimPod({ resourceClaimName: 'nic-claim' })));
    expect(nic.denials).toEqual([]);
    expect(nic.assumptions).toEqual([]);
    const gpu = e.validate(createRequest(claimPod({ resourceClaimName: 'gpu-claim' })));
    expect(gpu.denials.map((f) => [f.ruleId, f.path])).toEqual([['accelerator-allowed', 'spec.resourceClaims[0]']]);
    expect(gpu.denials[0]?.message).toContain('gpu.nvidia.com');
  });

  it('counts a DeviceClass that selects an accelerator driver as an accelerator class', () => {
    const cache = cached();
    cache.claimTemplate('add', { metadata: { name: 'h100', namespace: 'team' }, spec: { spec: { devices: { requests: [{ exactly: { deviceClassName: 'big-gpu' } }] } } } });
    const v = engineWith(cache).validate(createRequest(claimPod({ resourceClaimTemplateName: 'h100' })));
    expect(v.denials.map((f) => f.ruleId)).toEqual(['accelerator-allowed']);
  });

  it.each<[string, string, string[]]>([
    ['a plain limit served by an accelerator DeviceClass (extendedResourceName, KEP-5004)', 'acme.io/widget', ['accelerator-allowed']],
    ['the class-named DRA extended resource of an admin GPU class', 'deviceclass.resource.kubernetes.io/big-gpu', ['accelerator-allowed']],
    ['a plain limit served by a NIC DeviceClass', 'example.com/nic', []],
    ['a plain nvidia.com/gpu limit', 'nvidia.com/gpu', ['accelerator-allowed']],
  ])('judges %s', (_n, resource, rules) => {
    const spec = { containers: [cpuContainer({ resources: { limits: { [resource]: '1' } } })] };
    expect(engineWith(cached()).validate(createRequest(pod(spec))).denials.map((f) => f.ruleId)).toEqual(rules);
  });

  it('without DeviceClasses synced an unknown extended resource stays unknown', () => {
    const spec = { containers: [cpuContainer({ resources: { limits: { 'acme.io/widget': '1' } } })] };
    expect(engineWith(fed()).validate(createRequest(pod(spec))).denials).toEqual([]);
  });

  it('a claim the cache does not have is counted by policy, and the verdict says so', () => {
    const v = engineWith(cached()).validate(createRequest(claimPod({ resourceClaimName: 'made-a-moment-ago' })));
    expect(v.denials.map((f) => f.ruleId)).toEqual(['accelerator-allowed']);
    expect(v.assumptions.join()).toContain('ResourceClaim made-a-moment-ago counted as an accelerator');
    const off = engineWith(cached(), policy({ accelerators: { allowed: false, assumeClaimsAreAccelerators: false } }))
      .validate(createRequest(claimPod({ resourceClaimName: 'made-a-moment-ago' })));
    expect(off.denials).toEqual([]);
    expect(off.warnings.map((f) => f.message).join()).toContain('cannot be classified');
    expect(off.assumptions.join()).toContain('not counted as an accelerator');
  });
});

describe('DRA offline: the audit input is the cluster view', () => {
  const src = (object: Record<string, unknown>, index: number) => ({ file: 'in.yaml', line: 1, index, object });

  it('takes ResourceClaims and DeviceClasses from the manifests, as a cluster would', () => {
    const cache = contextOf([
      src({ apiVersion: 'resource.k8s.io/v1', kind: 'DeviceClass', metadata: { name: 'team-gpu' }, spec: { selectors: [{ cel: { expression: 'device.driver == "gpu.nvidia.com"' } }] } }, 1),
      src({ apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata: { name: 'mine', namespace: 'team' }, spec: { devices: { requests: [{ name: 'g', exactly: { deviceClassName: 'team-gpu' } }] } } }, 2),
    ]);
    expect(cache.deviceClasses('team', 'ResourceClaim', 'mine')).toEqual(['team-gpu']);
    const e = new Engine(new PolicyResolver(policySet([policy({ accelerators: { allowed: false } })]), cache), { ...config(), claims: cache, cluster: cache });
    const v = e.validate(createRequest(pod({ containers: [{ name: 'c', image: 'x', resources: { claims: [{ name: 'g' }] } }], resourceClaims: [{ name: 'g', resourceClaimName: 'mine' }] })));
    expect(v.denials.map((f) => f.message).join()).toContain('team-gpu');
    expect(v.assumptions).toEqual([]);
  });
});
