import { joinPath } from '../util/pointer.js';
import { Ajv, type ErrorObject } from 'ajv';
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
export const SHAPE_LIMITS = { nodeSelectorKeys: 256, requirementsPerTerm: 64, resourceNames: 64 } as const;

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
const requirement = { type: 'object', required: ['key', 'operator'], properties: { key: str, operator: str, values: { type: 'array', items: str } } };
const requirements = { type: 'array', maxItems: SHAPE_LIMITS.requirementsPerTerm, items: requirement };
const podSpecShape = {
  type: 'object',
  properties: {
    containers: { type: 'array', maxItems: 10000, items: container },
    initContainers: { type: 'array', maxItems: 10000, items: container },
    nodeSelector: { ...strMap, maxProperties: SHAPE_LIMITS.nodeSelectorKeys },
    tolerations: {
      type: 'array', maxItems: 10000,
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
                  type: 'array', maxItems: 10000,
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

const ajv = new Ajv({ allErrors: false, strict: false });
const check = ajv.compile(podSpecShape);

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

export function checkPodSpecShape(spec: unknown, base: string): ShapeError | undefined {
  if (check(spec)) return tooManyResourceNames(spec as Record<string, unknown>, base);
  const e = (check.errors ?? [])[0] as ErrorObject;
  return { path: joinPath(base, ajvErrorPath(e, '')), message: e.message ?? 'has the wrong type' };
}
