/**
 * The scheduler's own words: a FailedScheduling event message, parsed into its reasons.
 *
 * Formats modelled (messages as users report them, e.g. NVIDIA/k8s-device-plugin#430, #421,
 * kubernetes/kubernetes#81020, #49440, yugabyte/yugabyte-db#20349):
 * - 1.24+: `0/5 nodes are available: 2 Insufficient nvidia.com/gpu, 3 node(s) had untolerated taint
 *   {nvidia.com/gpu: present}. preemption: 0/5 nodes are available: 2 No preemption victims found
 *   for incoming pod, 3 Preemption is not helpful for scheduling.`
 * - 1.18-1.23: `0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: },
 *   that the pod didn't tolerate, 2 node(s) didn't match node selector.`
 * - 1.17 and older: `... 3 node(s) had taints that the pod didn't tolerate.`
 * - before 1.10: `No nodes are available that match all of the following predicates:: MatchNodeSelector (3),
 *   PodToleratesNodeTaints (1).` and `fit failure summary on nodes : MatchNodeSelector (2), ...`
 * - `no nodes available to schedule pods` (a cluster without schedulable nodes).
 */

export type ReasonKind = 'insufficient' | 'taint' | 'selector' | 'unschedulable' | 'other';

export interface SchedulerReason {
  /** Nodes the reason applies to (absent when the message gave no count). */
  count?: number;
  text: string;
  kind: ReasonKind;
  /** `Insufficient <resource>`: the resource. */
  resource?: string;
  /** An untolerated taint the message names. */
  taint?: { key: string; value: string };
}

export interface SchedulerMessage {
  /** Nodes the scheduler considered (`0/<n> nodes`). */
  nodes?: number;
  reasons: SchedulerReason[];
  /** The reasons of the preemption attempt (1.24+): why evicting Pods would not help. */
  preemption?: SchedulerReason[];
  raw: string;
}

const PREDICATES: Record<string, ReasonKind> = {
  MatchNodeSelector: 'selector',
  PodToleratesNodeTaints: 'taint',
  CheckNodeUnschedulable: 'unschedulable',
};

function classify(text: string, count?: number): SchedulerReason {
  const r: SchedulerReason = { ...(count !== undefined ? { count } : {}), text, kind: 'other' };
  const insufficient = /^Insufficient (\S+)$/.exec(text);
  if (insufficient) return { ...r, kind: 'insufficient', resource: insufficient[1] as string };
  const taint = /taints? \{([^}:]*):\s*([^}]*)\}/.exec(text);
  if (/untolerated taint|had taints? .*didn't tolerate|had taints? that the pod/.test(text)) {
    if (taint) {
      const key = (taint[1] as string).trim();
      const value = (taint[2] as string).trim();
      if (key === 'node.kubernetes.io/unschedulable') return { ...r, kind: 'unschedulable', taint: { key, value } };
      return { ...r, kind: 'taint', taint: { key, value } };
    }
    return { ...r, kind: 'taint' };
  }
  if (/didn't match (Pod's )?node (affinity|selector)|didn't match node selector|node affinity\/selector/.test(text)) return { ...r, kind: 'selector' };
  if (/were unschedulable|node\(s\) were unschedulable/.test(text)) return { ...r, kind: 'unschedulable' };
  return r;
}

function parseList(list: string): SchedulerReason[] {
  // Reasons are ", "-separated and each starts with its node count; an older taint reason holds a
  // comma of its own ("had taint {k: v}, that the pod didn't tolerate"), so split only before a count.
  return list.split(/,\s+(?=\d+\s)/).map((part) => part.trim().replace(/\.+$/, '')).filter(Boolean).map((part) => {
    const m = /^(\d+)\s+(.*)$/s.exec(part);
    return m ? classify((m[2] as string).trim(), Number(m[1])) : classify(part);
  });
}

/** Pre-1.10 predicate summaries: `MatchNodeSelector (3), PodToleratesNodeTaints (1), Insufficient nvidia.com/gpu (2)`. */
function parsePredicates(list: string): SchedulerReason[] {
  return list.split(/,\s*/).map((p) => p.trim().replace(/\.+$/, '')).filter(Boolean).map((p) => {
    const m = /^(.*?)\s*\((\d+)\)$/.exec(p);
    const name = (m ? m[1] : p) as string;
    const count = m ? Number(m[2]) : undefined;
    const kind = PREDICATES[name];
    return kind ? { ...(count !== undefined ? { count } : {}), text: name, kind } : classify(name, count);
  });
}

export function parseSchedulerMessage(message: string): SchedulerMessage {
  const raw = message.trim();
  const old = /(?:No nodes are available that match all of the (?:following )?predicates:+|fit failure summary on nodes\s*:)\s*(.*)$/s.exec(raw);
  if (old) return { reasons: parsePredicates(old[1] as string), raw };
  const [main, preemption] = raw.split(/\.\s+preemption:\s+/, 2) as [string, string | undefined];
  const head = /^(\d+)\/(\d+) nodes are available:?\s*(.*)$/s.exec(main);
  if (!head) return { reasons: [classify(main.replace(/\.+$/, ''))], raw };
  const out: SchedulerMessage = { nodes: Number(head[2]), reasons: parseList(head[3] as string), raw };
  if (preemption !== undefined) {
    const p = /^\d+\/\d+ nodes are available:?\s*(.*)$/s.exec(preemption);
    out.preemption = parseList((p ? p[1] : preemption) as string);
  }
  return out;
}

/** One line per reason, for people. */
export function describeReason(r: SchedulerReason): string {
  return `${r.count !== undefined ? `${r.count} node(s): ` : ''}${r.text}`;
}
