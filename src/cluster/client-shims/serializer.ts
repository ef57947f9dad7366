// Stands in for client-node's dist/serializer.js when imported by its dist/cache.js (see
// ../slim-client.ts). cache.js serializes label and field selectors as 'string', which the
// generated serializer returns unchanged, as it does every primitive type.
const PRIMITIVES = new Set(['string', 'boolean', 'double', 'integer', 'long', 'float', 'number', 'any']);

export const ObjectSerializer = {
  serialize(data: unknown, type: string): unknown {
    if (data === undefined || data === null || PRIMITIVES.has(type.toLowerCase())) return data;
    throw new Error(`the slim Kubernetes client serializes primitive types only, not ${type}`);
  },
};
