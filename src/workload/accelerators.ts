import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { ContainerPath } from './target.js';
import { globMatch } from '../util/glob.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';
import { type ClaimOptions, isDraAcceleratorResource, type PodClaim, podClaims } from './claims.js';

/** Extended resources that allocate an accelerator, as seen in the wild (DESIGN §4). */
export const DEFAULT_ACCELERATOR_RESOURCES: readonly string[] = [
  'nvidia.com/gpu',
  'nvidia.com/gpu.shared',
  'nvidia.com/mig-*',
  'amd.com/gpu',
  'gpu.intel.com/i915',
  'gpu.intel.com/xe',
  'google.com/tpu',
  'aws.amazon.com/neuron',
  'aws.amazon.com/neuroncore',
  'aws.amazon.com/neurondevice',
  'habana.ai/gaudi',
];

export class AcceleratorMatcher {
  private readonly exact = new Set<string>();
  private readonly globs: string[] = [];
  private readonly cache = new Map<string, boolean>();

  constructor(readonly patterns: readonly string[]) {
    for (const p of patterns) (p.includes('*') ? this.globs.push(p) : this.exact.add(p));
  }

  matches(resource: string): boolean {
    if (this.exact.has(resource)) return true;
    if (this.globs.length === 0 || !resource.includes('/')) return false;
    let hit = this.cache.get(resource);
    if (hit === undefined) {
      hit = this.globs.some((g) => globMatch(g, resource));
      if (this.cache.size < 4096) this.cache.set(resource, hit);
    }
    return hit;
  }
}

export type ContainerListName = 'initContainers' | 'containers';

export interface ContainerRef {
  container: V1Container;
  list: ContainerListName;
  index: number;
  /** Restartable init container (native sidecar). */
  sidecar: boolean;
  /** `containers[0]` relative to the pod spec. */
  path: string;
  /** Where its resources are, relative to the pod spec (`containers[0].resources`). */
  resourcesPath: string;
}

export interface AcceleratorUse {
  ref: ContainerRef;
  resource: string;
  limit: unknown;
  request: unknown;
  hasLimit: boolean;
  hasRequest: boolean;
}

export interface AcceleratorAnalysis {
  uses: AcceleratorUse[];
  /** Accelerator resource names requested anywhere in the Pod. */
  resources: string[];
  /** Effective per-Pod amount of each resource, as the scheduler counts it. */
  perPod: Map<string, number>;
  isAcceleratorPod: boolean;
  /** Containers (not init) that use an accelerator. */
  acceleratorContainers: ContainerRef[];
  /** Dynamic Resource Allocation claims that allocate accelerators. */
  claims: PodClaim[];
}

export function containerRefs(spec: V1PodSpec, containerPaths?: ContainerPath[]): ContainerRef[] {
  const refs: ContainerRef[] = [];
  const lists: ContainerListName[] = ['initContainers', 'containers'];
  for (const list of lists) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((container, index) => {
      if (container === null || typeof container !== 'object') return;
      const sidecar = list === 'initContainers' && container.restartPolicy === 'Always';
      const custom = list === 'containers' ? containerPaths?.[index] : undefined;
      const path = custom?.path ?? `${list}[${index}]`;
      refs.push({ container, list, index, sidecar, path, resourcesPath: custom?.resourcesPath ?? `${path}.resources` });
    });
  }
  return refs;
}

function mapOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Invalid amounts are accelerator-limits' finding; they count as nothing here. */
function amountOf(use: AcceleratorUse): number {
  const v = parseQuantity(use.hasLimit ? use.limit : use.request);
  return isPositiveInteger(v) ? v : 0;
}

/** The scheduler's view: max(app containers + sidecars, each init container + earlier sidecars). */
function effectivePerPod(uses: AcceleratorUse[], resources: string[]): Map<string, number> {
  const perPod = new Map<string, number>();
  for (const resource of resources) {
    const mine = uses.filter((u) => u.resource === resource);
    let longRunning = 0;
    let initPeak = 0;
    let sidecarsSoFar = 0;
    const byInit = mine.filter((u) => u.ref.list === 'initContainers').sort((a, b) => a.ref.index - b.ref.index);
    for (const u of byInit) {
      if (u.ref.sidecar) sidecarsSoFar += amountOf(u);
      else initPeak = Math.max(initPeak, amountOf(u) + sidecarsSoFar);
    }
    for (const u of mine) if (u.ref.list === 'containers' || u.ref.sidecar) longRunning += amountOf(u);
    perPod.set(resource, Math.max(longRunning, initPeak));
  }
  return perPod;
}

function claimNames(c: V1Container): string[] {
  const claims = (c.resources as { claims?: unknown } | undefined)?.claims;
  return Array.isArray(claims) ? claims.map((x: { name?: unknown }) => x?.name).filter((n): n is string => typeof n === 'string') : [];
}

export interface AnalyseOptions {
  containerPaths?: ContainerPath[];
  claims?: ClaimOptions;
}

export function analyseAccelerators(spec: V1PodSpec, matcher: AcceleratorMatcher, opts: AnalyseOptions = {}): AcceleratorAnalysis {
  const uses: AcceleratorUse[] = [];
  const resources = new Set<string>();
  const acceleratorContainers: ContainerRef[] = [];
  const classes = opts.claims?.deviceClasses ?? [];
  const isAccelerator = (n: string): boolean => matcher.matches(n) || isDraAcceleratorResource(n, classes);
  const claims = opts.claims ? podClaims(spec, opts.claims).filter((c) => c.accelerator) : [];
  const claimSet = new Set(claims.map((c) => c.name));
  for (const ref of containerRefs(spec, opts.containerPaths)) {
    const res = mapOf(ref.container.resources);
    const limits = mapOf(res['limits']);
    const requests = mapOf(res['requests']);
    const names = new Set([...Object.keys(limits), ...Object.keys(requests)].filter(isAccelerator));
    for (const resource of names) {
      resources.add(resource);
      uses.push({
        ref,
        resource,
        limit: limits[resource],
        request: requests[resource],
        hasLimit: Object.hasOwn(limits, resource),
        hasRequest: Object.hasOwn(requests, resource),
      });
    }
    const claimsAccelerator = claimNames(ref.container).some((n) => claimSet.has(n));
    if ((names.size > 0 || claimsAccelerator) && ref.list === 'containers') acceleratorContainers.push(ref);
  }
  const list = [...resources].sort();
  return {
    uses,
    resources: list,
    perPod: effectivePerPod(uses, list),
    isAcceleratorPod: uses.length > 0 || claims.length > 0,
    acceleratorContainers,
    claims,
  };
}
