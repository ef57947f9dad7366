import { Ajv, type ErrorObject } from 'ajv';

/**
 * The parts of a Pod spec the engine reads, with their types. Pods reach mutating webhooks before
 * schema validation and custom resources may hold anything, so the shape is checked once here
 * and the engine can then trust its types.
 */
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
const podSpecShape = {
  type: 'object',
  properties: {
    containers: { type: 'array', maxItems: 10000, items: container },
    initContainers: { type: 'array', maxItems: 10000, items: container },
    nodeSelector: strMap,
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
                  items: { type: 'object', properties: { matchExpressions: { type: 'array', items: requirement }, matchFields: { type: 'array', items: requirement } } },
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

function dotted(pointer: string): string {
  return pointer.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : /[./]/.test(part) ? `${acc}[${part}]` : `${acc}.${part}`), '');
}

export function checkPodSpecShape(spec: unknown, base: string): ShapeError | undefined {
  if (check(spec)) return undefined;
  const e = (check.errors ?? [])[0] as ErrorObject;
  return { path: `${base}${dotted(e.instancePath)}`, message: e.message ?? 'has the wrong type' };
}
