import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { mutatePod } from '../../src/engine/evaluate.js';
import { priorityClassMutator } from '../../src/mutators/priority-class.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { analysisOf, cpuContainer, pod, podSpec, policy } from '../support/fixtures.js';
import { expectIdempotent, runMutator } from '../support/mutate.js';

const withClass = (name: string, extra: Parameters<typeof policy>[0] = {}): NamespacePolicy =>
  policy({ ...extra, priority: { defaultClass: name, allowedClasses: [name, 'training-preemptible'] } });

/** What the Priority admission plugin leaves on a Pod without a class when no global default exists. */
const resolvedDefault = { priority: 0, preemptionPolicy: 'PreemptLowerPriority' } as const;

interface Case {
  name: string;
  spec: () => V1PodSpec;
  policy: () => NamespacePolicy;
  want: Pick<V1PodSpec, 'priorityClassName' | 'priority' | 'preemptionPolicy'>;
  changed: boolean;
}

const cases: Case[] = [
  // apply
  { name: 'sets the class and drops the priority the plugin resolved before us', spec: () => podSpec({ ...resolvedDefault }), policy: () => withClass('training-batch'), want: { priorityClassName: 'training-batch' }, changed: true },
  { name: 'sets the class on a spec without priority fields', spec: () => podSpec(), policy: () => withClass('training-batch'), want: { priorityClassName: 'training-batch' }, changed: true },
  { name: 'an empty class name counts as absent', spec: () => podSpec({ priorityClassName: '', priority: 0 }), policy: () => withClass('training-batch'), want: { priorityClassName: 'training-batch' }, changed: true },
  { name: 'drops preemptionPolicy alone too', spec: () => podSpec({ preemptionPolicy: 'Never' }), policy: () => withClass('training-batch'), want: { priorityClassName: 'training-batch' }, changed: true },
  // no-op
  { name: 'keeps the class the user set, with its priority', spec: () => podSpec({ priorityClassName: 'training-preemptible', priority: 100, preemptionPolicy: 'Never' }), policy: () => withClass('training-batch'), want: { priorityClassName: 'training-preemptible', priority: 100, preemptionPolicy: 'Never' }, changed: false },
  { name: 'keeps the default class already set', spec: () => podSpec({ priorityClassName: 'training-batch', priority: 1000 }), policy: () => withClass('training-batch'), want: { priorityClassName: 'training-batch', priority: 1000 }, changed: false },
  // skip
  { name: 'a Pod that requests no accelerator', spec: () => ({ containers: [cpuContainer()], ...resolvedDefault }), policy: () => withClass('training-batch'), want: { ...resolvedDefault }, changed: false },
  { name: 'mutations.priorityClass off', spec: () => podSpec({ ...resolvedDefault }), policy: () => withClass('training-batch', { mutations: { priorityClass: false } }), want: { ...resolvedDefault }, changed: false },
  { name: 'no default class in the policy', spec: () => podSpec({ ...resolvedDefault }), policy: () => policy(), want: { ...resolvedDefault }, changed: false },
];

describe('default-priority-class mutator', () => {
  it.each(cases)('$name', ({ spec, policy: pol, want, changed }) => {
    const out = runMutator(priorityClassMutator, spec(), pol());
    const got = { priorityClassName: out.spec.priorityClassName, priority: out.spec.priority, preemptionPolicy: out.spec.preemptionPolicy };
    expect(got).toEqual({ priorityClassName: undefined, priority: undefined, preemptionPolicy: undefined, ...want });
    expect(Object.hasOwn(out.spec, 'priority')).toBe(want.priority !== undefined);
    expect(out.changed).toBe(changed);
    expect(out.notes).toHaveLength(changed ? 1 : 0);
    expectIdempotent(priorityClassMutator, out.spec, pol());
  });

  it('its patch, applied like the API server, leaves no priority for the Priority plugin to contradict', () => {
    const object = pod(podSpec({ ...resolvedDefault }));
    const { patch } = mutatePod(analysisOf(object['spec'] as V1PodSpec, withClass('training-batch')));
    expect(patch).toEqual(expect.arrayContaining([
      { op: 'add', path: '/spec/priorityClassName', value: 'training-batch' },
      { op: 'remove', path: '/spec/priority' },
      { op: 'remove', path: '/spec/preemptionPolicy' },
    ]));
    expect(patch).toHaveLength(3);
    const spec = applyLikeApiServer(object, patch)['spec'] as V1PodSpec;
    expect(spec.priorityClassName).toBe('training-batch');
    expect(spec).not.toHaveProperty('priority');
    expect(spec).not.toHaveProperty('preemptionPolicy');
  });
});
