/** Conflict and validity checks of onboarding: each problem, its fix, and what --force changes. */
import { beforeAll, describe, expect, it } from 'vitest';
import { type CheckContext, checkOnboarding, compareExisting, type Problem } from '../../src/onboard/check.js';
import { generate, policyFileName, render } from '../../src/onboard/generate.js';
import { type ClusterState, type OnboardOptions, resolvePlan } from '../../src/onboard/plan.js';
import { candidateFiles, verifyGenerated } from '../../src/onboard/verify.js';
import { parsePolicies, type PolicyFile } from '../../src/policy/parse.js';
import { readPolicyFiles } from '../../src/server/policy-files.js';
import type { PolicySet } from '../../src/policy/types.js';
import { POLICIES } from './support.js';

let shipped: PolicyFile[];
beforeAll(async () => {
  shipped = await readPolicyFiles(POLICIES);
});

interface Extra {
  cluster?: ClusterState;
  force?: boolean;
  files?: PolicyFile[];
  priorityValue?: number;
}

function check(o: Partial<OnboardOptions>, extra: Extra = {}): Problem[] {
  const options: OnboardOptions = { namespace: 'team-a', profile: 'inference', pools: ['l4', 'a100-80gb'], ...o, priorityValue: extra.priorityValue ?? o.priorityValue };
  const set = parsePolicies([...shipped, ...(extra.files ?? [])]);
  const plan = resolvePlan(options, set, extra.cluster);
  const doc = generate(plan)[0]!.object;
  const ctx: CheckContext = { set, cluster: extra.cluster, force: extra.force ?? false, targetFile: policyFileName(options.namespace), priorityValue: options.priorityValue };
  return checkOnboarding(plan, doc, ctx);
}

const errors = (ps: Problem[]): Problem[] => ps.filter((p) => p.level === 'error');
const warnings = (ps: Problem[]): Problem[] => ps.filter((p) => p.level === 'warning');

/** A policy file as onboarding writes it, for the namespace and options given. */
function onboarded(o: OnboardOptions, set: PolicySet): PolicyFile {
  const plan = resolvePlan(o, set);
  const file = render(generate(plan), plan)[0]!;
  return { path: `${POLICIES}/${file.path}`, text: file.text };
}

const cluster = (classes: Record<string, number>, namespaceLabels?: Record<string, string>): ClusterState =>
  ({ priorityClasses: new Map(Object.entries(classes).map(([k, value]) => [k, { value }])), namespaceLabels });

describe('onboarding checks', () => {
  it('passes a clean plan with no problem at all', () => {
    expect(check({})).toEqual([]);
  });

  it.each<[string, Partial<OnboardOptions>, Extra, RegExp, RegExp]>([
    ['another policy names the namespace', { namespace: 'inference' }, {}, /namespace inference is already governed by NamespacePolicy "realtime-inference" \(inference\.yaml\), which names it/, /remove inference from spec\.namespaces\.names in inference\.yaml/],
    ['an exempt policy names it', { namespace: 'gpu-operator' }, {}, /already governed by NamespacePolicy "gpu-system"/, /exempt\.yaml/],
    ['an unknown pool', { pools: ['h100', 'l4'] }, {}, /--pools: no GpuPool named "h100"/, /use some of: a100-80gb, l4, .*pools discover/],
    ['a default pool outside the pools', { defaultPool: 't4' }, {}, /--default-pool: "t4" is not one of the namespace's pools \(l4, a100-80gb\)/, /add t4 to --pools/],
    ['ambiguous pools for a whole-GPU profile', { pools: undefined }, {}, /no pools chosen: the inference profile prefers whole-GPU pools and the catalogue has several \(a100-80gb, l4, mi300x, t4, tpu-v6e, gaudi\)/, /pass --pools/],
    ['a new class above production', { profile: 'batch', pools: ['t4'], priority: 'vip', priorityValue: 2_000_000 }, {}, /PriorityClass vip has value 2000000, above production's \(inference-critical: 1000000\)/, /--priority-value 1000/],
    ['an existing class above production', { profile: 'training', pools: ['a100-80gb'], priority: 'urgent' }, { cluster: cluster({ urgent: 5_000_000, 'inference-critical': 1_000_000 }) }, /PriorityClass urgent has value 5000000, above production's/, /at or below 1000000/],
    ['a profile class above a cluster whose production class is lower', { profile: 'training', pools: ['a100-80gb'] }, { cluster: cluster({ 'inference-critical': 5000 }) }, /training-preemptible has value 10000, above production's \(inference-critical: 5000\)/, /at or below 5000/],
    ['a value that differs from the existing class', { priority: 'inference-critical' }, { cluster: cluster({ 'inference-critical': 900_000 }), priorityValue: 800_000 }, /exists with value 900000, not 800000; a class's value cannot change/, /drop --priority-value/],
    ['a system class', { priority: 'system-cluster-critical' }, {}, /system-cluster-critical is reserved for cluster components/, /inference-critical/],
    ['a Pod limit above the quota', { maxGpusPerPod: 8, gpuQuota: 4 }, {}, /--max-gpus-per-pod 8 is more than the namespace quota 4: such a Pod could never be admitted/, /raise --gpu-quota to at least 8/],
    ['a zero quota', { gpuQuota: 0, maxGpusPerPod: 0 }, {}, /--gpu-quota must be at least 1/, /default policy allows none/],
    ['a reserved namespace', { namespace: 'kube-system' }, {}, /reserved for Kubernetes itself/, /team namespace/],
    ['an invalid namespace name', { namespace: 'Team_A' }, {}, /"Team_A" is not a valid namespace name/, /lower-case/],
    ['an invalid label key', { labels: { 'bad key': 'x' } }, {}, /"bad key" is not a valid label key/, /prefix\/\]name/],
    ['an invalid label value', { labels: { team: 'a b' } }, {}, /the value "a b" of team is not a valid label value/, /63 letters/],
    ['the name label', { labels: { 'kubernetes.io/metadata.name': 'x' } }, {}, /kubernetes\.io\/metadata\.name is set by the API server/, /remove it/],
    ['a label that hands the namespace to another policy', { labels: { 'gpu-admission.io/profile': 'training' } }, {}, /selected by NamespacePolicy "training" \(training\.yaml\) through its labels \(gpu-admission\.io\/profile=training\); the new policy names it and would take it over/, /pass --force/],
    ['live labels that hand the namespace to another policy', {}, { cluster: cluster({}, { 'gpu-admission.io/profile': 'research' }) }, /NamespacePolicy "research"/, /remove the matching label/],
  ])('%s is an error with the fix', (_name, o, extra, message, fix) => {
    const found = errors(check(o, extra));
    expect(found.map((p) => p.message).join('\n')).toMatch(message);
    expect(found.find((p) => message.test(p.message))?.fix).toMatch(fix);
  });

  it('--force takes over a namespace another policy selects by label, with a warning', () => {
    const ps = check({ labels: { 'gpu-admission.io/profile': 'training' } }, { force: true });
    expect(errors(ps)).toEqual([]);
    expect(warnings(ps).map((p) => p.message).join()).toMatch(/would take it over/);
  });

  it('warns of resources a quota cannot name, and of a Pod limit above every node', () => {
    const files: PolicyFile[] = [{ path: 'mig.yaml', text: 'apiVersion: gpu-admission.io/v1alpha1\nkind: GpuPool\nmetadata: {name: any-mig}\nspec: {nodeLabels: {x: y}, resources: [nvidia.com/mig-*], maxPerPod: 2}\n' }];
    const ps = check({ profile: 'notebook', pools: ['any-mig'], maxGpusPerPod: 3 }, { files });
    expect(errors(ps)).toEqual([]);
    expect(warnings(ps).map((p) => p.message)).toEqual([
      '--max-gpus-per-pod 3 is more than any node of the pools holds (2)',
      'the pools offer nvidia.com/mig-*: a ResourceQuota cannot name a pattern, so those resources are not limited',
    ]);
  });

  it('warns that a class outside the catalogue gets the profile value unless --priority-value says otherwise', () => {
    expect(warnings(check({ priority: 'serving-gold' })).map((p) => p.message)).toEqual([
      'PriorityClass serving-gold is not in the catalogue: it is written with the inference profile\'s value 1000000',
    ]);
    expect(check({ priority: 'serving-gold', priorityValue: 500_000 })).toEqual([]);
  });
});

describe('an existing policy of the same name', () => {
  const base: OnboardOptions = { namespace: 'team-a', profile: 'inference', pools: ['l4', 'a100-80gb'] };

  it('identical (by meaning): nothing to do, no problem', () => {
    const file = onboarded(base, parsePolicies(shipped));
    expect(check(base, { files: [file] })).toEqual([]);
    expect(compareExisting(generate(resolvePlan(base, parsePolicies([...shipped, file])))[0]!.object, parsePolicies([...shipped, file]))).toEqual({ state: 'same', source: 'team-a.policy.yaml' });
  });

  it('different: refused without --force, listing each change', () => {
    const file = onboarded({ ...base, gpuQuota: 16, maxGpusPerPod: 4 }, parsePolicies(shipped));
    const found = errors(check(base, { files: [file] }));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toBe('NamespacePolicy "team-a" already exists in team-a.policy.yaml and differs: accelerators.maxPerPod: 4 -> 8');
    expect(found[0]!.fix).toBe('review the changes and pass --force to replace it');
    expect(check(base, { files: [file], force: true })).toEqual([]);
  });

  it('different and in a file onboarding does not write: refused even with --force', () => {
    const file = onboarded({ ...base, maxGpusPerPod: 4 }, parsePolicies(shipped));
    const moved = { path: `${POLICIES}/teams.yaml`, text: file.text };
    const found = errors(check(base, { files: [moved], force: true }));
    expect(found.map((p) => p.fix)).toEqual(['it lives in teams.yaml, which onboarding does not write: edit that file, or remove the policy there first']);
  });
});

describe('verification with the webhook loader and engine', () => {
  it('loads the directory as it will be and admits a well-formed accelerator Pod under the new policy', () => {
    const set = parsePolicies(shipped);
    const plan = resolvePlan({ namespace: 'team-a', profile: 'inference', pools: ['l4'] }, set);
    const policy = render(generate(plan), plan)[0]!;
    const files = candidateFiles(shipped, POLICIES, policy, { state: 'new' });
    const v = verifyGenerated(files, plan);
    expect(v.problems).toEqual([]);
    expect(v.set?.policies.map((p) => p.name)).toContain('team-a');
  });

  it('reports what the loader rejects, e.g. a namespace another policy names (defence in depth behind the checks)', () => {
    const set = parsePolicies(shipped);
    const plan = resolvePlan({ namespace: 'training', profile: 'training', pools: ['a100-80gb'] }, set);
    const policy = render(generate(plan), plan)[0]!;
    const v = verifyGenerated(candidateFiles(shipped, POLICIES, { ...policy, path: 'other.policy.yaml' }, { state: 'new' }), plan);
    expect(v.problems.map((p) => p.message).join('\n')).toMatch(/the policy directory would be invalid: .*(NamespacePolicy "training" is defined more than once|already governed)/);
  });
});
