import type { V1PodSpec } from '@kubernetes/client-node';

/** Extended resources backed by Dynamic Resource Allocation: `deviceclass.resource.kubernetes.io/<class>`. */
export const DRA_EXTENDED_PREFIX = 'deviceclass.resource.kubernetes.io/';

export interface ClaimOptions {
  deviceClasses: readonly string[];
  /** Count a claim of unknown class as an accelerator (assumeClaimsAreAccelerators) ... */
  assume: boolean;
  /** ... when the view has listed every claim of this kind; otherwise it cannot be classified. */
  listed?: (kind: 'ResourceClaim' | 'ResourceClaimTemplate') => boolean;
  /** Device classes of a claim or claim template, when a cluster view knows them. */
  resolve?: (kind: 'ResourceClaim' | 'ResourceClaimTemplate', name: string) => string[] | undefined;
}

export interface PodClaim {
  name: string;
  /** `resourceClaims[0]` relative to the pod spec. */
  path: string;
  kind: 'ResourceClaim' | 'ResourceClaimTemplate';
  ref: string;
  deviceClasses?: string[];
  accelerator: boolean;
  /** Counted as an accelerator without knowing its device class. */
  assumed: boolean;
}

export function isDraAcceleratorResource(name: string, deviceClasses: readonly string[]): boolean {
  return name.startsWith(DRA_EXTENDED_PREFIX) && deviceClasses.includes(name.slice(DRA_EXTENDED_PREFIX.length));
}

/** A DeviceClass as a cluster view knows it. */
export interface DeviceClassFacts {
  name: string;
  /** Drivers its CEL selectors name (`device.driver == "gpu.nvidia.com"`). */
  drivers: string[];
  /** KEP-5004 (alpha 1.34, beta 1.36): plain limits of this name are served by the class through DRA. */
  extendedResourceName?: string;
}

export interface DraAccelerators {
  /** Classes that allocate accelerators: the policy's, and the cluster's that select their drivers. */
  classes: string[];
  /** Extended resources that accelerator classes serve (`spec.extendedResourceName`). */
  extended: Set<string>;
}

/**
 * With a cluster view the DeviceClasses decide: a class is an accelerator class when the policy
 * names it, when its selectors pick a driver the policy names (the DRA drivers' own classes carry
 * their driver's name), or when it serves an accelerator extended resource.
 */
export function draAccelerators(listed: readonly string[], cluster: readonly DeviceClassFacts[] | undefined, isAccelerator: (r: string) => boolean): DraAccelerators {
  const classes = new Set(listed);
  const extended = new Set<string>();
  for (const c of cluster ?? []) {
    const ext = c.extendedResourceName;
    if (classes.has(c.name) || c.drivers.some((d) => listed.includes(d)) || (ext !== undefined && isAccelerator(ext))) {
      classes.add(c.name);
      if (ext) extended.add(ext);
    }
  }
  return { classes: [...classes], extended };
}

interface RawClaim {
  name?: unknown;
  resourceClaimName?: unknown;
  resourceClaimTemplateName?: unknown;
  source?: { resourceClaimName?: unknown; resourceClaimTemplateName?: unknown };
}

/** The Pod's resource claims (current fields and the pre-1.28 `source`), classified. */
export function podClaims(spec: V1PodSpec, opts: ClaimOptions): PodClaim[] {
  const raw = (spec as { resourceClaims?: unknown }).resourceClaims;
  if (!Array.isArray(raw)) return [];
  const out: PodClaim[] = [];
  raw.forEach((c: RawClaim, i) => {
    if (!c || typeof c !== 'object' || typeof c.name !== 'string') return;
    const claimName = c.resourceClaimName ?? c.source?.resourceClaimName;
    const templateName = c.resourceClaimTemplateName ?? c.source?.resourceClaimTemplateName;
    const kind = typeof templateName === 'string' ? 'ResourceClaimTemplate' : 'ResourceClaim';
    const ref = String(typeof templateName === 'string' ? templateName : claimName ?? '');
    const deviceClasses = ref ? opts.resolve?.(kind, ref) : undefined;
    // Offline (nothing listed) a claim of unknown class cannot be told: warned, not guessed. With a
    // live view it is one not created yet, which may still allocate a GPU: counted, if the policy says.
    const assume = opts.assume && (opts.listed?.(kind) ?? false);
    const accelerator = deviceClasses ? deviceClasses.some((d) => opts.deviceClasses.includes(d)) : assume;
    out.push({ name: c.name, path: `resourceClaims[${i}]`, kind, ref, deviceClasses, accelerator, assumed: !deviceClasses && assume });
  });
  return out;
}
