/**
 * JSON Schema of `kind: PolicyTest`: one object, the namespace it is created in, and what the
 * webhook is expected to do with it.
 */
const id = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };

export const VERDICTS = ['denied', 'warned', 'allowed', 'skipped'] as const;
export type ExpectedVerdict = (typeof VERDICTS)[number];

export const policyTestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'gpu-admission.io/v1alpha1' },
    kind: { const: 'PolicyTest' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 253 } },
      additionalProperties: true,
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['namespace', 'object', 'expect'],
      properties: {
        description: { type: 'string' },
        namespace: { ...id, maxLength: 63 },
        namespaceLabels: { type: 'object', additionalProperties: { type: 'string' } },
        object: {
          type: 'object',
          required: ['apiVersion', 'kind'],
          properties: {
            apiVersion: { type: 'string', minLength: 1 },
            kind: { type: 'string', minLength: 1 },
            metadata: { type: 'object' },
          },
        },
        expect: {
          type: 'object',
          additionalProperties: false,
          required: ['verdict'],
          properties: {
            verdict: { enum: [...VERDICTS] },
            policy: { type: 'string', minLength: 1, description: 'The NamespacePolicy expected to govern the namespace.' },
            rules: { type: 'array', uniqueItems: true, items: id, description: 'Exactly the rule ids of the findings (denials, warnings and recorded).' },
            mutations: { type: 'array', uniqueItems: true, items: id, description: 'Exactly the mutators that change the object.' },
          },
        },
      },
    },
  },
};

export interface PolicyTestDoc {
  apiVersion: string;
  kind: 'PolicyTest';
  metadata: { name: string };
  spec: {
    description?: string;
    namespace: string;
    namespaceLabels?: Record<string, string>;
    object: Record<string, unknown>;
    expect: { verdict: ExpectedVerdict; policy?: string; rules?: string[]; mutations?: string[] };
  };
}
