/**
 * Nobody gets around it: what a tenant controls (its Pod's annotations and ownerReferences, its
 * namespace's labels, the fields of an UPDATE) must not lift a rule.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicies } from '../src/policy/parse.js';
import { cpuContainer, createRequest, defaultTolerations, engine, gpuContainer, gpuToleration, pod, policy } from './support/fixtures.js';

const squatter = (meta: Record<string, unknown> = {}) => pod({ containers: [cpuContainer()], tolerations: [gpuToleration()] }, meta);
const dsOwner = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'u', controller: true }] };

describe('bypass resistance', () => {
  it('a Pod annotation cannot exempt it', () => {
    const v = engine().validate(createRequest(squatter({ annotations: { 'gpu-admission.io/exempt': 'true', 'gpu-admission.io/skip': 'all' } })));
    expect(v.denials.map((f) => f.ruleId)).toEqual(['gpu-squatting']);
  });

  it('a forged DaemonSet ownerReference does not exempt a Pod a tenant creates', () => {
    const req = { ...createRequest(squatter(dsOwner)), userInfo: { username: 'alice', groups: ['system:authenticated'] } };
    expect(engine().validate(req).denials.map((f) => f.ruleId)).toEqual(['gpu-squatting']);
  });

  it('the DaemonSet controller may create the Pods of a named node agent that tolerate GPU taints', () => {
    const agents = engine([policy({ nodeAgents: [{ name: 'ds' }] })]);
    for (const username of ['system:serviceaccount:kube-system:daemon-set-controller', 'system:kube-controller-manager']) {
      const req = { ...createRequest(squatter(dsOwner)), userInfo: { username } };
      expect(agents.validate(req).denials).toEqual([]);
      // Being a DaemonSet is not enough: one the policy does not name is judged like any workload.
      expect(engine().validate(req).denials.map((f) => f.ruleId)).toEqual(['gpu-squatting']);
    }
  });

  it('a forged ownerReference naming a node agent still does not exempt a tenant\'s Pod', () => {
    const req = { ...createRequest(squatter(dsOwner)), userInfo: { username: 'alice', groups: ['system:authenticated'] } };
    expect(engine([policy({ nodeAgents: [{ name: 'ds' }] })]).validate(req).denials.map((f) => f.ruleId)).toEqual(['gpu-squatting']);
  });

  it('a DaemonSet template may tolerate GPU taints only when the policy names it (spec.nodeAgents)', () => {
    const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'dcgm', namespace: 'team' }, spec: { template: { spec: { containers: [cpuContainer()], tolerations: [{ operator: 'Exists' }] } } } };
    const req = { kind: { group: 'apps', kind: 'DaemonSet' }, operation: 'CREATE' as const, namespace: 'team', object: ds };
    expect(engine([policy({ nodeAgents: [{ name: 'dcgm' }] })]).validate(req).denials).toEqual([]);
    // A tenant DaemonSet tolerating GPU taints in a normal namespace gets every GPU node: denied.
    expect(engine().validate(req).denials.map((f) => [f.ruleId, f.path])).toEqual([['gpu-squatting', 'spec.template.spec.tolerations[0]']]);
    expect(engine([policy({ nodeAgents: [{ name: 'other' }] })]).validate(req).denials.map((f) => f.ruleId)).toEqual(['gpu-squatting']);
  });

  it('an UPDATE cannot add GPU tolerations to a running non-GPU Pod', () => {
    const before = pod({ containers: [cpuContainer()], tolerations: defaultTolerations() });
    const after = pod({ containers: [cpuContainer()], tolerations: [...(defaultTolerations() ?? []), gpuToleration()] });
    const v = engine().validate({ ...createRequest(after), operation: 'UPDATE', oldObject: before });
    expect(v.denials.map((f) => [f.ruleId, f.path])).toEqual([['gpu-squatting', 'spec.tolerations[2]']]);
  });

  it('requester exemptions hold only for the users and groups the policy names', () => {
    const p = policy({ exemptions: [{ rules: ['gpu-squatting'], groups: ['platform-admins'] }] });
    const e = engine([p]);
    const as = (groups: string[]) => e.validate({ ...createRequest(squatter()), userInfo: { username: 'x', groups } }).denials.length;
    expect(as(['platform-admins'])).toBe(0);
    expect(as(['system:authenticated'])).toBe(1);
    expect(e.validate(createRequest(squatter())).denials.length).toBe(1);
  });

  it('an exempt policy may not select namespaces by labels a tenant could set', () => {
    const doc = (ns: string) => `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: agents}\nspec: {exempt: true, namespaces: ${ns}}\n`;
    expect(() => parsePolicies([{ path: 'p.yaml', text: doc('{selector: {matchLabels: {team: infra}}}') }])).toThrow(/exempt policy must name its namespaces/);
    expect(parsePolicies([{ path: 'p.yaml', text: doc('{names: [gpu-operator]}') }]).policies[0]?.exempt).toBe(true);
    expect(parsePolicies([{ path: 'p.yaml', text: doc('{selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [a]}]}}') }]).policies).toHaveLength(1);
  });

  it('priority escalation and system-* classes are denied, GPU requests are not lifted by a namespace label', () => {
    const p = policy({ priority: { allowedClasses: ['batch'] } });
    const v = engine([p]).validate(createRequest(pod({ containers: [gpuContainer()], tolerations: [gpuToleration()], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, priorityClassName: 'production' })));
    expect(v.denials.map((f) => f.ruleId)).toEqual(['priority-class']);
    const sys = engine([p]).validate(createRequest(pod({ containers: [gpuContainer()], tolerations: [gpuToleration()], nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, priorityClassName: 'system-node-critical' })));
    expect(sys.denials.map((f) => f.ruleId)).toEqual(['priority-class']);
  });
});
