import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { ContainerPath } from './target.js';
import { globMatch } from '../util/glob.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';
import { type ClaimOptions, isDraAcceleratorResource, type PodClaim, podClaims } from './claims.js';
import { FRACTION_ANNOTATIONS, KNOWN_ACCELERATOR_RESOURCES, looksLikeAccelerator, NON_ACCELERATOR_RESOURCES } from './vendors.js';

/** Extended resources that allocate an accelerator, per vendor with sources (vendors.ts, DESIGN §4). */
export const DEFAULT_ACCELERATOR_RESOURCES: readonly string[] = KNOWN_ACCELERATOR_RESOURCES;

export interface MatcherOptions {
  /** Resources that never count (globs allowed), on top of the built-in NON_ACCELERATOR_RESOURCES. */
  ignore?: readonly string[];
  /** Count unknown resources whose name says gpu / npu / tpu / ... as assumed accelerators (default true). */
  guess?: boolean;
}

/**
 * Which extended resources allocate accelerators. A name listed exactly always counts; a glob
 * (`nvidia.com/mig-*`) or the name heuristic counts unless the name is one that only qualifies a
 * share of a device (`nvidia.com/gpumem`) or is ignored. The heuristic's hits are `assumed`.
 */
export class AcceleratorMatcher {
  private readonly exact = new Set<string>();
  private readonly globs: string[] = [];
  private readonly ignore: string[];
  private readonly guess: boolean;
  private readonly cache = new Map<string, 'listed' | 'assumed' | false>();

  constructor(readonly patterns: readonly string[], opts: MatcherOptions = {}) {
    for (const p of patterns) (p.includes('*') ? this.globs.push(p) : this.exact.add(p));
    this.ignore = [...NON_ACCELERATOR_RESOURCES, ...(opts.ignore ?? [])];
    this.guess = opts.guess ?? true;
  }

  matches(resource: string): boolean {
    return this.classify(resource) !== false;
  }

  /** Counted only because its name says so: not a known accelerator resource. */
  assumed(resource: string): boolean {
    return this.classify(resource) === 'assumed';
  }

  classify(resource: string): 'listed' | 'assumed' | false {
    if (this.exact.has(resource)) return 'listed';
    if (!resource.includes('/')) return false;
    let hit = this.cache.get(resource);
    if (hit === undefined) {
      if (this.ignore.some((g) => globMatch(g, resource))) hit = false;
      else if (this.globs.some((g) => globMatch(g, resource))) hit = 'listed';
      else hit = this.guess && looksLikeAccelerator(resource) ? 'assumed' : false;
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
  /** Claims whose device class could not be told (counted or not, by assumeClaimsAreAccelerators). */
  unclassified: PodClaim[];
  /** Requested resources counted only because their name says so (vendors.ts heuristic). */
  assumed: string[];
  /** GPU shares requested by annotation (KAI-Scheduler `gpu-fraction` / `gpu-memory`). */
  fractions: FractionRequest[];
}

export interface FractionRequest {
  key: string;
  value: unknown;
  resource: string;
  /** `metadata.annotations[gpu-fraction]`, relative to the object. */
  path: string;
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
  /** Annotations of the Pod or template, and where they are (`metadata`, `spec.template.metadata`). */
  annotations?: unknown;
  metadataPath?: string;
  /** Extended resources a cluster DeviceClass serves through DRA (`spec.extendedResourceName`). */
  draExtended?: ReadonlySet<string>;
}

function fractionsOf(annotations: unknown, metadataPath: string): FractionRequest[] {
  const a = mapOf(annotations);
  return FRACTION_ANNOTATIONS.filter((f) => Object.hasOwn(a, f.key))
    .map((f) => ({ key: f.key, value: a[f.key], resource: f.resource, path: `${metadataPath}.annotations[${f.key}]` }));
}

export function analyseAccelerators(spec: V1PodSpec, matcher: AcceleratorMatcher, opts: AnalyseOptions = {}): AcceleratorAnalysis {
  const uses: AcceleratorUse[] = [];
  const resources = new Set<string>();
  const acceleratorContainers: ContainerRef[] = [];
  const classes = opts.claims?.deviceClasses ?? [];
  const isAccelerator = (n: string): boolean => matcher.matches(n) || isDraAcceleratorResource(n, classes) || opts.draExtended?.has(n) === true;
  const all = opts.claims ? podClaims(spec, opts.claims) : [];
  const claims = all.filter((c) => c.accelerator);
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
  const fractions = fractionsOf(opts.annotations, opts.metadataPath ?? 'metadata');
  // A share requested by annotation is a GPU request of the whole Pod: every app container may use it.
  if (fractions.length > 0) {
    for (const ref of containerRefs(spec, opts.containerPaths)) if (ref.list === 'containers' && !acceleratorContainers.includes(ref)) acceleratorContainers.push(ref);
  }
  const list = [...new Set([...resources, ...fractions.map((f) => f.resource)])].sort();
  return {
    uses,
    resources: list,
    perPod: effectivePerPod(uses, list),
    isAcceleratorPod: uses.length > 0 || claims.length > 0 || fractions.length > 0,
    acceleratorContainers,
    claims,
    unclassified: all.filter((c) => !c.deviceClasses),
    assumed: [...resources].filter((r) => matcher.assumed(r)).sort(),
    fractions,
  };
}
