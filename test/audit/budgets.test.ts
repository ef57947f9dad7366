import { describe, expect, it } from 'vitest';
import { budgetSuggestions, podCount } from '../../src/audit/budgets.js';
import { parseManifests } from '../../src/audit/input.js';
import { audit } from '../../src/audit/run.js';
import { Engine } from '../../src/engine/engine.js';
import { PolicyResolver } from '../../src/policy/resolve.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { dumpYaml } from '../../src/util/yaml.js';
import { config, policy, policySet } from '../support/fixtures.js';

const GPU = { containers: [{ name: 'c', image: 'x:1', resources: { limits: { 'nvidia.com/gpu': '1', memory: '1Gi' } } }] };
const CPU = { containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: '1', memory: '1Gi' } } }] };

const deployment = (name: string, replicas: number, spec: object = GPU, ns = 'team') => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } },
});
const pdb = (selector: object | null, ns = 'team', apiVersion = 'policy/v1') => ({ apiVersion, kind: 'PodDisruptionBudget', metadata: { name: 'b', namespace: ns }, spec: { maxUnavailable: 1, selector } });
const lws = (replicas: number, size: number) => ({
  apiVersion: 'leaderworkerset.x-k8s.io/v1', kind: 'LeaderWorkerSet', metadata: { name: 'vllm', namespace: 'team' },
  spec: { replicas, leaderWorkerTemplate: { size, workerTemplate: { metadata: { labels: { app: 'vllm' } }, spec: GPU } } },
});
const pytorchJob = (workers: number) => ({
  apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name: 'train', namespace: 'team' },
  spec: { pytorchReplicaSpecs: { Master: { replicas: 1, template: { spec: GPU } }, Worker: { replicas: workers, template: { spec: GPU } } } },
});

function engineWith(p: NamespacePolicy): Engine {
  return new Engine(new PolicyResolver(policySet([{ ...p, namespaces: { names: ['team'] } }])), config());
}

function run(objects: object[], p: NamespacePolicy = policy()): { verdicts: string[]; budget: { list: string; path: string; message: string }[] } {
  const src = parseManifests('in.yaml', objects.map((o) => dumpYaml(o)).join('---\n'));
  const results = audit(engineWith(p), src, { namespace: 'team', excludedNamespaces: [] });
  const budget = results.flatMap((r) => (['violations', 'warnings', 'recorded'] as const).flatMap((list) => r[list].filter((f) => f.ruleId === 'disruption-budget').map((f) => ({ list, path: f.path, message: f.message }))));
  return { verdicts: results.map((r) => r.verdict), budget };
}

describe('disruption-budget (audit only)', () => {
  const flagged: [string, object[]][] = [
    ['a 3-replica GPU Deployment without a budget', [deployment('llm', 3)]],
    ['a budget in another namespace', [deployment('llm', 3), pdb({ matchLabels: { app: 'llm' } }, 'other')]],
    ['a budget that selects other Pods', [deployment('llm', 3), pdb({ matchLabels: { app: 'web' } })]],
    ['a budget with a null selector (selects nothing)', [deployment('llm', 3), pdb(null)]],
    ['a LeaderWorkerSet of one group of 4 Pods', [lws(1, 4)]],
    ['a LeaderWorkerSet of 2 single-Pod groups', [lws(2, 1)]],
    ['a PyTorchJob with 1 master and 3 workers', [pytorchJob(3)]],
  ];
  it.each(flagged)('warns: %s', (_name, objects) => {
    const r = run(objects);
    expect(r.budget).toHaveLength(1);
    expect(r.budget[0]?.list).toBe('warnings');
    expect(r.budget[0]?.message).toMatch(/accelerator Pods and no PodDisruptionBudget in namespace team selects their labels/);
  });

  const passed: [string, object[]][] = [
    ['a budget selecting the template labels', [deployment('llm', 3), pdb({ matchLabels: { app: 'llm' } })]],
    ['a budget with matchExpressions', [deployment('llm', 3), pdb({ matchExpressions: [{ key: 'app', operator: 'In', values: ['llm', 'x'] }] })]],
    ['an empty selector (every Pod of the namespace)', [deployment('llm', 3), pdb({})]],
    ['a policy/v1beta1 budget', [deployment('llm', 3), pdb({ matchLabels: { app: 'llm' } }, 'team', 'policy/v1beta1')]],
    ['a budget on the label LWS adds to its Pods', [lws(2, 2), pdb({ matchLabels: { 'leaderworkerset.sigs.k8s.io/name': 'vllm' } })]],
    ['a budget on the job-name label the Training Operator adds', [pytorchJob(3), pdb({ matchLabels: { 'training.kubeflow.org/job-name': 'train' } })]],
  ];
  it.each(passed)('passes: %s', (_name, objects) => {
    expect(run(objects).budget).toEqual([]);
  });

  const skipped: [string, object[], NamespacePolicy?][] = [
    ['one replica', [deployment('llm', 1)]],
    ['replicas left out (default 1)', [{ ...deployment('llm', 1), spec: { ...deployment('llm', 1).spec, replicas: undefined } }]],
    ['no accelerator', [deployment('web', 3, CPU)]],
    ['a kind it does not judge (Pod)', [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team' }, spec: GPU }]],
    ['disruption.budgets off', [deployment('llm', 3)], policy({ disruption: { budgets: 'off' } })],
    ['an exemption that lifts it', [deployment('llm', 3)], policy({ exemptions: [{ rules: ['disruption-budget'] }] })],
  ];
  it.each(skipped)('skips: %s', (_name, objects, p) => {
    expect(run(objects, p).budget).toEqual([]);
  });

  it("with budgets: enforce it is sorted by the policy's mode", () => {
    const enforce = run([deployment('llm', 3)], policy({ disruption: { budgets: 'enforce' } }));
    expect(enforce.budget.map((b) => b.list)).toEqual(['violations']);
    expect(enforce.verdicts).toEqual(['denied']);
    expect(run([deployment('llm', 3)], policy({ mode: 'audit', disruption: { budgets: 'enforce' } })).budget.map((b) => b.list)).toEqual(['recorded']);
  });

  it('names the template labels the budget must select', () => {
    expect(run([deployment('llm', 3)]).budget[0]?.path).toBe('spec.template.metadata.labels');
  });

  it('is left out when the budgets are unknown (audit --cluster without list on them)', () => {
    const src = parseManifests('in.yaml', dumpYaml(deployment('llm', 3)));
    const results = audit(engineWith(policy()), src, { namespace: 'team', excludedNamespaces: [], budgets: false });
    expect(results[0]?.warnings.filter((f) => f.ruleId === 'disruption-budget')).toEqual([]);
  });

  it('counts Pods as the operators do', () => {
    expect(podCount('jobset.x-k8s.io/JobSet', { replicatedJobs: [{ replicas: 2, template: { spec: { parallelism: 4, completions: 2 } } }, { template: { spec: {} } }] })).toBe(2 * 2 + 1);
    expect(podCount('batch/Job', { parallelism: 8 })).toBe(8);
    expect(podCount('batch.volcano.sh/Job', { tasks: [{ replicas: 2 }, {}] })).toBe(3);
    expect(podCount('apps/DaemonSet', {})).toBeUndefined();
  });
});

describe('audit --suggest-pdbs', () => {
  it('suggests one budget per flagged workload, selecting its Pods, and none once it exists', () => {
    const objects = parseManifests('in.yaml', [deployment('llm', 3), deployment('small', 1)].map((o) => dumpYaml(o)).join('---\n'));
    const engine = engineWith(policy());
    const pdbs = budgetSuggestions(engine, objects, 'team', []);
    expect(pdbs).toEqual([{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'llm-gpu', namespace: 'team' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'llm' } } } }]);
    const withThem = [...objects, ...parseManifests('pdb.yaml', dumpYaml(pdbs[0]))];
    expect(budgetSuggestions(engine, withThem, 'team', [])).toEqual([]);
    expect(run([deployment('llm', 3), pdbs[0] as object]).budget).toEqual([]);
  });

  it("a job's budget keeps every Pod with an integer minAvailable (its controller has no scale subresource)", () => {
    const objects = parseManifests('in.yaml', dumpYaml(pytorchJob(3)));
    const pdbs = budgetSuggestions(engineWith(policy()), objects, 'team', []);
    expect(pdbs.map((p) => p['spec'])).toEqual([{ minAvailable: 4, selector: { matchLabels: { 'training.kubeflow.org/job-name': 'train' } } }]);
  });

});
