/** A policy set (and optionally a live cluster view) -> the engine that judges reviews. */
import { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES } from '../workload/accelerators.js';
import { type NamespaceLabelSource, offlineNamespaces, PolicyResolver } from '../policy/resolve.js';
import type { PolicySet } from '../policy/types.js';
import { Engine } from './engine.js';
import type { ClaimResolver, ClusterFacts } from './types.js';

/** A live cluster view: namespace labels, claim device classes and facts about nodes and classes. */
export type ClusterSource = NamespaceLabelSource & ClaimResolver & ClusterFacts;

export function engineFor(set: PolicySet, extra: string[] = [], cluster?: ClusterSource): Engine {
  const patterns = [...new Set([...DEFAULT_ACCELERATOR_RESOURCES, ...set.pools.flatMap((p) => p.resources), ...extra])];
  return new Engine(new PolicyResolver(set, cluster ?? offlineNamespaces), {
    pools: set.pools,
    accelerators: new AcceleratorMatcher(patterns),
    claims: cluster,
    cluster,
  });
}
