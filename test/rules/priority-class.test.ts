import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { priorityClass as rule } from '../../src/rules/priority-class.js';
import { analysisOf, cpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures } from './helpers.js';

const ID = 'priority-class';
const PATH = 'spec.priorityClassName';
const withClass = (name: string): V1PodSpec => podSpec({ priorityClassName: name });
const allowed = (...classes: string[]): NamespacePolicy => policy({ priority: { allowedClasses: classes } });
const withDefault = (defaultClass: string, ...classes: string[]): NamespacePolicy => policy({ priority: { defaultClass, allowedClasses: classes } });

describe(ID, () => {
  it.each<[string, V1PodSpec, NamespacePolicy]>([
    ['any user class when the policy lists none', withClass('high'), policy()],
    ['an allowed class', withClass('inference-high'), allowed('inference-high', 'batch-low')],
    ['the default class', withClass('batch-low'), withDefault('batch-low', 'batch-low')],
    ['the default class when no list is set', withClass('batch-low'), withDefault('batch-low')],
    ['a class that merely contains "system"', withClass('my-system-critical'), allowed('my-system-critical')],
  ])('allows %s', (_n, spec, pol) => {
    expectPass(rule.check(analysisOf(spec, pol)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy]>([
    ['a Pod without priorityClassName', podSpec(), allowed('batch-low')],
    ['an empty priorityClassName', withClass(''), allowed('batch-low')],
    ['a non-string priorityClassName', podSpec({ priorityClassName: 7 as unknown as string }), allowed('batch-low')],
  ])('skips %s, and fails the same Pod naming a class it may not use', (_n, spec, pol) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf({ ...spec, priorityClassName: 'production-critical' }, pol));
  });

  it.each<[string, string, NamespacePolicy, string]>([
    ['system-cluster-critical with allowed classes', 'system-cluster-critical', allowed('batch-low', 'inference-high'), 'use one of: batch-low, inference-high'],
    ['system-node-critical with a default class', 'system-node-critical', withDefault('batch-low'), 'remove it to get batch-low'],
    ['system-node-critical with no priority policy', 'system-node-critical', policy(), 'remove priorityClassName'],
    ['system-node-critical even if listed as allowed', 'system-node-critical', allowed('system-node-critical'), 'use one of: system-node-critical'],
  ])('denies %s', (_n, name, pol, fix) => {
    expectOne(failures(rule.check(analysisOf(withClass(name), pol))), {
      ruleId: ID,
      path: PATH,
      message: [`PriorityClass ${name} is reserved for cluster components`, 'namespace team'],
      fix: [fix],
    });
  });

  it('denies system classes on CPU Pods too', () => {
    expectOne(failures(rule.check(analysisOf({ containers: [cpuContainer()], priorityClassName: 'system-cluster-critical' }))), { ruleId: ID, path: PATH, message: ['reserved'] });
  });

  it.each<[string, NamespacePolicy, string]>([
    ['without a default class', allowed('batch-low', 'inference-high'), 'use one of: batch-low, inference-high'],
    ['with a default class', withDefault('batch-low', 'batch-low', 'inference-high'), 'use one of: batch-low, inference-high, or remove the field to get batch-low'],
  ])('denies a class that is not allowed, %s', (_n, pol, fix) => {
    const f = expectOne(failures(rule.check(analysisOf(withClass('production-critical'), pol))), {
      ruleId: ID,
      path: PATH,
      message: ['PriorityClass production-critical is not allowed in namespace team (allowed: batch-low, inference-high)'],
      fix: [fix],
    });
    expect(f.advisory).toBeUndefined();
  });

  describe('node agents (DaemonSet Pods)', () => {
    const agent = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'nvidia-device-plugin', uid: 'u', controller: true }] };
    it.each<[string, string, NamespacePolicy]>([
      ['system-node-critical, no priority policy', 'system-node-critical', policy()],
      ['system-node-critical, a default class', 'system-node-critical', withDefault('batch-low')],
      ['system-cluster-critical, allowed classes', 'system-cluster-critical', allowed('batch-low')],
      ['a class that is not allowed, with a default class', 'production-critical', withDefault('batch-low', 'batch-low')],
    ])('are denied outside exempt namespaces (%s), never told to remove priorityClassName', (_n, name, pol) => {
      const [f] = failures(rule.check(analysisOf(withClass(name), pol, undefined, agent)));
      expect(f?.path).toBe(PATH);
      expect(f?.fix).not.toMatch(/remove/i);
      expect(`${f?.message} ${f?.fix}`).not.toMatch(/remove (it|the field|priorityClassName)/);
    });

    it('are pointed at the exempt namespaces, keeping their class', () => {
      const [f] = failures(rule.check(analysisOf(withClass('system-node-critical'), policy(), undefined, agent)));
      expect(f?.fix).toMatch(/exempt NamespacePolicy.*gpu-system.*nvidia-device-plugin.*keep priorityClassName system-node-critical/);
    });
  });
});
