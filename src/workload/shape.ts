import { joinPath } from '../util/pointer.js';
import type { ErrorObject } from 'ajv';
import { validatePodSpecShape } from '../validators/index.js';
import { ajvErrorPath } from '../util/ajv-errors.js';

/**
 * The parts of a Pod spec the engine reads, with their types. Pods reach mutating webhooks before
 * schema validation and custom resources may hold anything, so the shape is checked once here
 * and the engine can then trust its types.
 */
/**
 * Bounds on what the engine compares pairwise (requirements of one selector key, resource names
 * against their uses, every nodeSelector entry in every affinity term): far above any real Pod,
 * low enough that a hostile object under the 3 MiB body limit cannot stall the event loop or
 * exhaust the heap. Beyond them the Pod gets a `pod-spec-shape` finding like any other bad shape.
 */
export const SHAPE_LIMITS = {
  nodeSelectorKeys: 256,
  requirementsPerTerm: 64,
  resourceNames: 64,
  /**
   * Required node affinity terms (ORed). Each term is judged together with the whole nodeSelector,
   * so the work is terms x (nodeSelector keys + requirements per term): 10,000 terms x 256 keys
   * took 1.9-4.3 s. Real Pods carry a handful (Karpenter, GKE and the DaemonSet controller write
   * one per zone, pool or node class); 100 is far above any chart. At 1,000 terms a review cost
   * 25 ms, and four tenants sending such reviews back to back pushed ordinary reviews' p99 past
   * 300 ms on one core; at 100 it is 2-4 ms (npm run soak, phase worst).
   */
  nodeSelectorTerms: 100,
  /**
   * Requirements across all terms (matchExpressions and matchFields): each becomes an object the
   * rules compare, so 100 terms x 64 requirements would be 6,400 of them. Real Pods have tens.
   */
  requirements: 1_000,
  /**
   * Values of one `In`/`NotIn` requirement. Real lists name zones, instance types, GPU products or
   * (matchFields) node names: hundreds at most. 10,000 covers a node list of a very large cluster.
   */
  valuesPerRequirement: 10_000,
  /**
   * Values across all requirements of the terms: the rules intersect and search them per pool and
   * per node, and 36 lists of 10,000 (2.7 MiB) took 130 ms. Real Pods have tens; this leaves room
   * for one node list of 10,000 names and more.
   */
  values: 20_000,
  /**
   * Containers (and, separately, init containers) of one Pod: every rule reads each, and a finding
   * per container makes the answer grow with them (10,000 GPU containers took 30-100 ms). Real
   * Pods have a handful, the largest sidecar-heavy ones tens.
   */
  containers: 2_000,
  /** Tolerations: matched against each pool's few taints, linear work; far above any real Pod. */
  tolerations: 10_000,
} as const;

const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: { type: 'string' } };
const quantityMap = { type: 'object', additionalProperties: { type: ['string', 'number'] } };
const int = { type: 'integer' };
const probe = {
  type: 'object',
  properties: {
    initialDelaySeconds: int, periodSeconds: int, timeoutSeconds: int, failureThreshold: int, successThreshold: int,
    httpGet: { type: 'object' }, tcpSocket: { type: 'object' }, grpc: { type: 'object' }, exec: { type: 'object' },
  },
};
const container = {
  type: 'object',
  properties: {
    name: str,
    restartPolicy: str,
    resources: { type: 'object', properties: { limits: quantityMap, requests: quantityMap, claims: { type: 'array' } } },
    livenessProbe: probe, readinessProbe: probe, startupProbe: probe,
  },
};
const requirement = { type: 'object', required: ['key', 'operator'], properties: { key: str, operator: str, values: { type: 'array', maxItems: SHAPE_LIMITS.valuesPerRequirement, items: str } } };
const requirements = { type: 'array', maxItems: SHAPE_LIMITS.requirementsPerTerm, items: requirement };
export const podSpecShape = {
  type: 'object',
  properties: {
    containers: { type: 'array', maxItems: SHAPE_LIMITS.containers, items: container },
    initContainers: { type: 'array', maxItems: SHAPE_LIMITS.containers, items: container },
    nodeSelector: { ...strMap, maxProperties: SHAPE_LIMITS.nodeSelectorKeys },
    tolerations: {
      type: 'array', maxItems: SHAPE_LIMITS.tolerations,
      items: { type: 'object', properties: { key: str, operator: str, value: str, effect: str, tolerationSeconds: int } },
    },
    affinity: {
      type: 'object',
      properties: {
        nodeAffinity: {
          type: 'object',
          properties: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              type: 'object',
              properties: {
                nodeSelectorTerms: {
                  type: 'array', maxItems: SHAPE_LIMITS.nodeSelectorTerms,
                  items: { type: 'object', properties: { matchExpressions: requirements, matchFields: requirements } },
                },
              },
            },
          },
        },
      },
    },
    priorityClassName: str,
    priority: int,
    serviceAccountName: str,
    terminationGracePeriodSeconds: int,
    schedulingGates: { type: 'array' },
  },
};

// podSpecShape, compiled ahead of time (src/validators/, `npm run validators`).
const check = validatePodSpecShape;

export interface ShapeError {
  path: string;
  message: string;
}

type ResourceMaps = { resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> } };

/** Distinct resource names across all containers (the schema cannot count across items). */
function tooManyResourceNames(spec: Record<string, unknown>, base: string): ShapeError | undefined {
  const names = new Set<string>();
  for (const list of ['initContainers', 'containers'] as const) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    for (let i = 0; i < items.length; i++) {
      const resources = (items[i] as ResourceMaps).resources;
      for (const field of ['limits', 'requests'] as const) {
        for (const name of Object.keys(resources?.[field] ?? {})) names.add(name);
        if (names.size > SHAPE_LIMITS.resourceNames) {
          return { path: `${base}.${list}[${i}].resources.${field}`, message: `must NOT name more than ${SHAPE_LIMITS.resourceNames} distinct resources across the Pod's containers` };
        }
      }
    }
  }
  return undefined;
}

type Terms = { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: unknown[]; matchFields?: unknown[] }> } } } };

const valueCount = (reqs: unknown[] | undefined): number => {
  let n = 0;
  for (const r of reqs ?? []) n += (r as { values?: unknown[] }).values?.length ?? 0;
  return n;
};

/** Requirements and values across all required node affinity terms (the schema cannot count across items). */
function tooManyRequirements(spec: Terms, base: string): ShapeError | undefined {
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  let n = 0;
  let values = 0;
  for (let t = 0; t < terms.length; t++) {
    n += (terms[t]?.matchExpressions?.length ?? 0) + (terms[t]?.matchFields?.length ?? 0);
    values += valueCount(terms[t]?.matchExpressions) + valueCount(terms[t]?.matchFields);
    const path = `${base}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${t}]`;
    if (n > SHAPE_LIMITS.requirements) return { path, message: `must NOT hold more than ${SHAPE_LIMITS.requirements} requirements across the terms` };
    if (values > SHAPE_LIMITS.values) return { path, message: `must NOT hold more than ${SHAPE_LIMITS.values} values across the terms' requirements` };
  }
  return undefined;
}

export function checkPodSpecShape(spec: unknown, base: string): ShapeError | undefined {
  if (check(spec)) return tooManyRequirements(spec as Terms, base) ?? tooManyResourceNames(spec as Record<string, unknown>, base);
  const e = (check.errors ?? [])[0] as ErrorObject;
  return { path: joinPath(base, ajvErrorPath(e, '')), message: e.message ?? 'has the wrong type' };
}
