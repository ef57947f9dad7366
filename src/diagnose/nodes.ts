/** Nodes and the accelerators they advertise and have free, from the listed objects. */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { PoolTaint, TaintEffect } from '../policy/types.js';
import { parseQuantity } from '../util/quantity.js';
import { type AcceleratorMatcher, analyseAccelerators } from '../workload/accelerators.js';

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  taints: PoolTaint[];
  /** spec.unschedulable: cordoned. */
  cordoned: boolean;
  ready: boolean;
  capacity(resource: string): number;
  allocatable(resource: string): number;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

function amount(map: Record<string, string> | undefined, r: string): number {
  const n = parseQuantity(map?.[r]);
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : 0;
}

export function nodeView(n: V1Node): NodeView {
  const status = n.status ?? {};
  return {
    name: n.metadata?.name ?? '',
    labels: { ...(n.metadata?.labels ?? {}) },
    taints: (n.spec?.taints ?? []).filter((t) => EFFECTS.has(t.effect)).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect as TaintEffect })),
    cordoned: n.spec?.unschedulable === true,
    ready: (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    capacity: (r) => amount(status.capacity as Record<string, string> | undefined, r),
    allocatable: (r) => amount(status.allocatable as Record<string, string> | undefined, r),
  };
}

/** Pods that hold node resources: bound and not finished. */
export function holdsResources(p: V1Pod): boolean {
  return Boolean(p.spec?.nodeName) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** What a Pod requests of each accelerator resource, as the scheduler counts it. */
export function acceleratorRequests(p: V1Pod, matcher: AcceleratorMatcher): Map<string, number> {
  if (!p.spec) return new Map();
  return analyseAccelerators(p.spec, matcher).perPod;
}

export interface Holder {
  namespace: string;
  name: string;
  amount: number;
  priority: number;
  priorityClassName?: string;
}

/** Per node: the Pods holding `resource` there. */
export function holdersByNode(pods: V1Pod[], resource: string, matcher: AcceleratorMatcher, except?: string): Map<string, Holder[]> {
  const out = new Map<string, Holder[]>();
  for (const p of pods) {
    if (!holdsResources(p) || (except !== undefined && p.metadata?.uid === except)) continue;
    const amountHeld = acceleratorRequests(p, matcher).get(resource) ?? 0;
    if (amountHeld <= 0) continue;
    const node = p.spec?.nodeName as string;
    const list = out.get(node) ?? [];
    list.push({
      namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', amount: amountHeld, priority: p.spec?.priority ?? 0,
      ...(p.spec?.priorityClassName ? { priorityClassName: p.spec.priorityClassName } : {}),
    });
    out.set(node, list);
  }
  return out;
}
