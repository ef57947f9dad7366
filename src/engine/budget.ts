import type { V1PodSpec } from '@kubernetes/client-node';
import type { PodSpecTarget } from '../workload/target.js';
import type { EngineConfig, Finding } from './types.js';

/**
 * The work one review may cost, in work units counted from the Pod specs before they are analysed:
 * deterministic (the same review gets the same answer whatever the machine's load), and checked
 * between targets so that a review over the budget stops before the expensive part.
 *
 * What is counted is what the analysis and the rules compare, with the factor they compare it by:
 *  - the node selection (nodeSelector entries, affinity requirements and their values): matched
 *    against every pool of the catalogue and every live node of the cluster view;
 *  - tolerations: matched against the taints of every pool;
 *  - containers and init containers: read by every rule (a fixed factor of 20).
 * A template is counted twice (its Pods are judged after mutation as well).
 *
 * 10,000,000 units is about 40-150 ms of engine work on one core (15 ms measured for 3.8 million
 * units of 1,000 terms x 10 requirements against 180 nodes; more when no node matches). The shape bounds
 * (workload/shape.ts) keep any one spec well inside it offline; what can still exceed it is a
 * large selection against a large live node list, or an object with many Pod specs.
 */
export const REVIEW_BUDGET_UNITS = 10_000_000;

export const BUDGET_RULE = 'review-complexity';

const CONTAINER_UNITS = 20;

interface Cost {
  units: number;
  /** The field that costs the most, for the message. */
  field: string;
}

type Requirements = Array<{ values?: unknown }> | undefined;

function requirementUnits(reqs: Requirements): number {
  if (!Array.isArray(reqs)) return 0;
  let n = 0;
  for (const r of reqs) n += 1 + (Array.isArray(r?.values) ? r.values.length : 0);
  return n;
}

/** The work units of one Pod spec (already shape-checked: the types are the ones it reads). */
export function specCost(target: PodSpecTarget, config: EngineConfig, nodeCount: number): Cost {
  const spec: V1PodSpec = target.spec;
  const pools = config.pools.length;
  const nodeSelector = spec.nodeSelector && typeof spec.nodeSelector === 'object' ? Object.keys(spec.nodeSelector).length : 0;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  let affinity = 0;
  if (Array.isArray(terms)) for (const t of terms) affinity += 1 + requirementUnits(t?.matchExpressions) + requirementUnits(t?.matchFields);
  const perSelection = 1 + pools + nodeCount;
  const parts: Array<[string, number]> = [
    ['affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms', affinity * perSelection],
    ['nodeSelector', nodeSelector * perSelection],
    ['tolerations', (Array.isArray(spec.tolerations) ? spec.tolerations.length : 0) * (1 + pools)],
    ['containers', (Array.isArray(spec.containers) ? spec.containers.length : 0) * CONTAINER_UNITS],
    ['initContainers', (Array.isArray(spec.initContainers) ? spec.initContainers.length : 0) * CONTAINER_UNITS],
  ];
  const times = target.isTemplate ? 2 : 1;
  let units = 0;
  let top = parts[0] as [string, number];
  for (const p of parts) {
    units += p[1] * times;
    if (p[1] > top[1]) top = p;
  }
  return { units, field: `${target.path}.${top[0]}` };
}

/** Counts the work of the review's Pod specs, one at a time. */
export class ReviewBudget {
  private used = 0;
  private readonly nodeCount: number;

  constructor(private readonly config: EngineConfig, readonly limit = REVIEW_BUDGET_UNITS) {
    const nodes = config.cluster?.nodes();
    let n = 0;
    if (nodes) for (const _ of nodes) n++;
    this.nodeCount = n;
  }

  /** Charges one target; the finding when the review is now over the budget. */
  charge(target: PodSpecTarget): Finding | undefined {
    const cost = specCost(target, this.config, this.nodeCount);
    this.used += cost.units;
    if (this.used <= this.limit) return undefined;
    return {
      ruleId: BUDGET_RULE,
      path: cost.field,
      message: `too complex to judge: the review needs ${this.used} work units, over the limit of ${this.limit} (node selection x pools and nodes, tolerations x pools, containers)`,
      fix: 'simplify the field (fewer affinity terms, requirements or values, nodeSelector keys, tolerations or containers), or split the object',
    };
  }
}
