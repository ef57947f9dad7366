/** A policy set (and optionally a live cluster view) -> the engine that judges reviews. */
import { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES } from '../workload/accelerators.js';
import { globMatch } from '../util/glob.js';
import { type NamespaceLabelSource, offlineNamespaces, PolicyResolver } from '../policy/resolve.js';
import type { PolicySet } from '../policy/types.js';
import { Engine } from './engine.js';
import type { ClaimResolver, ClusterFacts } from './types.js';

/** A live cluster view: namespace labels, claim device classes and facts about nodes and classes. */
export type ClusterSource = NamespaceLabelSource & ClaimResolver & ClusterFacts;

/**
 * What counts as an accelerator, from the policy files alone (so serve, audit and policy test
 * agree): the built-in vendor list, the pools' resources, the AcceleratorConfig document, and
 * `--accelerator-resources` on top.
 */
export function acceleratorMatcher(set: PolicySet, extra: readonly string[] = []): AcceleratorMatcher {
  const config = set.accelerators;
  const ignored = (r: string): boolean => (config?.ignore ?? []).some((g) => globMatch(g, r));
  // The config's ignore list may drop a built-in name; names the pools or the config list win.
  const patterns = [...new Set([...DEFAULT_ACCELERATOR_RESOURCES.filter((r) => !ignored(r)), ...set.pools.flatMap((p) => p.resources), ...(config?.resources ?? []), ...extra])];
  return new AcceleratorMatcher(patterns, { ignore: config?.ignore, guess: config?.guessByName });
}

export function engineFor(set: PolicySet, extra: string[] = [], cluster?: ClusterSource): Engine {
  return new Engine(new PolicyResolver(set, cluster ?? offlineNamespaces), {
    pools: set.pools,
    accelerators: acceleratorMatcher(set, extra),
    claims: cluster,
    cluster,
  });
}
