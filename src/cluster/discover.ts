import type { KubeConfig } from '@kubernetes/client-node';
import type { GpuPool, PoolTaint, TaintEffect } from '../policy/types.js';
import { ACCELERATOR_LABEL_KEYS } from '../scheduling/pools.js';
import type { AcceleratorMatcher } from '../workload/accelerators.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';
import { ClusterCache, type NodeInfo } from './cache.js';
import { listAll } from './list.js';

/** Labels cloud providers and autoscalers put on every node of a node group. */
const GROUP_KEYS = ['cloud.google.com/gke-nodepool', 'eks.amazonaws.com/nodegroup', 'karpenter.sh/nodepool', 'kubernetes.azure.com/agentpool', 'node.kubernetes.io/instance-type'];
const EFFECTS = new Set<string>(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/**
 * Taints the node lifecycle sets for a condition (not-ready, unreachable, unschedulable, pressure,
 * an uninitialised cloud node): a node's state, not its pool's. A pool that demanded tolerations
 * for them would make Pods tolerate broken nodes.
 */
const conditionTaint = (t: { key: string }): boolean => t.key.startsWith('node.kubernetes.io/') || t.key.startsWith('node.cloudprovider.kubernetes.io/');
const poolTaints = (node: NodeInfo): NodeInfo['taints'] => node.taints.filter((t) => !conditionTaint(t));

function acceleratorsOf(node: NodeInfo, matcher: AcceleratorMatcher): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, raw] of Object.entries(node.allocatable)) {
    const n = parseQuantity(raw);
    if (matcher.matches(name) && isPositiveInteger(n)) out[name] = n;
  }
  return out;
}

function identity(node: NodeInfo, resources: string[]): string {
  const keys = Object.keys(node.labels).filter((k) => ACCELERATOR_LABEL_KEYS.has(k) || GROUP_KEYS.includes(k)).sort();
  return JSON.stringify([resources, keys.map((k) => [k, node.labels[k]]), poolTaints(node).map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).sort()]);
}

function common<T>(lists: T[][], key: (t: T) => string): T[] {
  const [first, ...rest] = lists;
  return (first ?? []).filter((x) => rest.every((l) => l.some((y) => key(y) === key(x))));
}

function poolName(labels: Record<string, string>, resources: string[], used: Set<string>): string {
  const hint = labels['nvidia.com/gpu.product'] ?? labels['cloud.google.com/gke-accelerator'] ?? labels['cloud.google.com/gke-tpu-accelerator']
    ?? labels['karpenter.k8s.aws/instance-gpu-name'] ?? labels['kubernetes.azure.com/accelerator'] ?? GROUP_KEYS.map((k) => labels[k]).find(Boolean) ?? resources[0] ?? 'pool';
  const base = hint.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 50) || 'pool';
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
  used.add(name);
  return name;
}

/** GpuPool documents for the accelerator node groups among these nodes. */
export function discoverPools(nodes: Iterable<NodeInfo>, matcher: AcceleratorMatcher): GpuPool[] {
  const groups = new Map<string, { nodes: NodeInfo[]; resources: string[]; counts: number[] }>();
  for (const node of nodes) {
    const acc = acceleratorsOf(node, matcher);
    const resources = Object.keys(acc).sort();
    if (resources.length === 0) continue;
    const id = identity(node, resources);
    const g = groups.get(id) ?? { nodes: [], resources, counts: [] };
    g.nodes.push(node);
    g.counts.push(Math.max(...Object.values(acc)));
    groups.set(id, g);
  }
  const used = new Set<string>();
  return [...groups.values()].map((g) => {
    const shared = common(g.nodes.map((n) => Object.entries(n.labels)), ([k, v]) => `${k}=${v}`);
    const telling = shared.filter(([k]) => ACCELERATOR_LABEL_KEYS.has(k) || GROUP_KEYS.includes(k));
    const nodeLabels = Object.fromEntries(telling.length > 0 ? telling : shared.filter(([k]) => !k.startsWith('kubernetes.io/') && !k.startsWith('topology.')));
    const taints: PoolTaint[] = common(g.nodes.map(poolTaints), (t) => `${t.key}=${t.value ?? ''}:${t.effect}`)
      .filter((t) => EFFECTS.has(t.effect))
      .map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect as TaintEffect }));
    return { name: poolName(nodeLabels, g.resources, used), nodeLabels, taints, resources: g.resources, maxPerPod: Math.min(...g.counts) };
  });
}

export function poolDocuments(pools: GpuPool[]): object[] {
  return pools.map((p) => ({
    apiVersion: 'gpu-admission.io/v1alpha1',
    kind: 'GpuPool',
    metadata: { name: p.name },
    spec: { nodeLabels: p.nodeLabels, taints: p.taints, resources: p.resources, ...(p.maxPerPod ? { maxPerPod: p.maxPerPod } : {}) },
  }));
}

/** Reads every node of the cluster (paged) as the cache models them. */
export async function readNodes(kc: KubeConfig): Promise<NodeInfo[]> {
  const cache = new ClusterCache();
  for (const n of await listAll(kc, 'v1', 'Node')) cache.node('add', n as never);
  return [...cache.nodeMap.values()];
}
