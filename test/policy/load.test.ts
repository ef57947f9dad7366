import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { PolicyStore } from '../../src/server/policy-store.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { parsePolicies, PolicyError } from '../../src/policy/parse.js';
import { policyFileSchema } from '../../src/policy/schema.js';
import { POLICIES_DIR } from '../support/app.js';

const POOL = `apiVersion: gpu-admission.io/v1alpha1
kind: GpuPool
metadata: {name: l4}
spec:
  nodeLabels: {cloud.google.com/gke-accelerator: nvidia-l4}
  taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
  resources: [nvidia.com/gpu]
`;

function problemsOf(text: string, path = 'p.yaml'): string[] {
  try {
    parsePolicies([{ path, text }]);
    return [];
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
}

describe('policy files', () => {
  it('loads the shipped policies', async () => {
    const set = await loadPolicyDir(POLICIES_DIR);
    expect(set.pools.map((p) => p.name)).toEqual(['a100-80gb', 'l4', 'a100-mig', 'mi300x', 't4', 'tpu-v6e', 'gaudi']);
    expect(set.policies.find((p) => p.isDefault)?.name).toBe('strict-default');
    expect(set.policies.map((p) => p.name).sort()).toEqual(['gpu-system', 'notebooks', 'realtime-inference', 'research', 'strict-default', 'training']);
  });

  it('policies/schema.json is the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(`${POLICIES_DIR}schema.json`, 'utf8'))).toEqual(policyFileSchema);
  });

  it('applies documented defaults', () => {
    const set = parsePolicies([{ path: 'p.yaml', text: `${POOL}---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: d}\nspec: {default: true}\n---\n` }]);
    const p = set.policies[0]!;
    expect(p.mode).toBe('enforce');
    expect(p.accelerators.allowed).toBe(true);
    expect(p.mutations).toEqual({
      templates: false, tolerations: true, defaultPoolNodeSelector: true, startupProbe: true, terminationGracePeriod: true, priorityClass: true,
      rollout: true, disruption: true, gangQueue: true, cudaAffinity: true, imagePullPolicy: true, costLabels: true,
    });
    expect(p.rollout).toEqual({ progressDeadlineSeconds: undefined, marginSeconds: 300, surgeOnly: 'off', recreate: 'off', minReadySeconds: undefined });
    expect(p.disruption).toEqual({ protect: 'training', budgets: 'warn' });
    expect(p.gang).toEqual({ mode: 'off', paths: [], defaultQueue: undefined, schedulerNames: { kueue: [], volcano: ['volcano'], kai: ['kai-scheduler'], coscheduling: ['scheduler-plugins-scheduler'] } });
    expect(p.cuda).toEqual({ check: 'warn', minorVersionCompatibility: true });
    expect(p.images).toEqual({ unpinned: 'warn' });
    expect(p.costLabels).toEqual({ required: [], fromNamespace: [] });
  });

  it.each([
    ['an unknown field, with its path', `${POOL}---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: x}\nspec: {default: true, acelerators: {}}\n`, /p\.yaml document 2 \(NamespacePolicy "x"\): spec\.acelerators: unknown field/],
    ['a bad enum', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: x}\nspec: {default: true, mode: block}\n`, /spec\.mode: must be one of "enforce", "warn", "audit"/],
    ['a wrong type deep inside', `apiVersion: gpu-admission.io/v1alpha1\nkind: GpuPool\nmetadata: {name: x}\nspec: {nodeLabels: {a: b}, resources: [nvidia.com/gpu], taints: [{key: k, effect: Sometimes}]}\n`, /spec\.taints\[0\]\.effect: must be one of/],
    ['a wrong apiVersion', `apiVersion: v1\nkind: GpuPool\nmetadata: {name: x}\nspec: {}\n`, /document 1: apiVersion must be gpu-admission\.io\/v1alpha1/],
    ['an unknown kind', `apiVersion: gpu-admission.io/v1alpha1\nkind: Pool\nmetadata: {name: x}\nspec: {}\n`, /kind must be GpuPool or NamespacePolicy/],
    ['broken YAML', `apiVersion: [\n`, /p\.yaml: not valid YAML\/JSON/],
    ['an unknown pool', `${POOL}---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: x}\nspec: {default: true, accelerators: {pools: [h100]}}\n`, /spec\.accelerators\.pools: no GpuPool named "h100"/],
    ['a default pool outside the allowed pools', `${POOL}---\napiVersion: gpu-admission.io/v1alpha1\nkind: GpuPool\nmetadata: {name: a100}\nspec: {nodeLabels: {a: b}, resources: [nvidia.com/gpu]}\n---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: x}\nspec: {default: true, accelerators: {pools: [l4], defaultPool: a100}}\n`, /defaultPool: "a100" is not in spec\.accelerators\.pools/],
    ['two defaults', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true}\n---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: b}\nspec: {default: true}\n`, /more than one NamespacePolicy has default: true/],
    ['a namespace claimed twice', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {namespaces: {names: [ml]}}\n---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: b}\nspec: {namespaces: {names: [ml]}}\n`, /namespace ml is already governed by NamespacePolicy "a"/],
    ['a policy that governs nothing', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {mode: warn}\n`, /names or selector is required/],
    ['a system-* default class', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true, priority: {defaultClass: system-node-critical}}\n`, /system-\* classes are reserved/],
    ['a default class outside the allowed classes', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true, priority: {defaultClass: hi, allowedClasses: [lo]}}\n`, /"hi" is not in spec\.priority\.allowedClasses/],
    ['a duplicate pool', `${POOL}---\n${POOL}`, /GpuPool "l4" is defined more than once/],
    // serve and `policy validate` share this path: what one rejects the other does too.
    ['overlapping selectors (an Exists on the name label takes over every namespace)', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {namespaces: {selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: Exists}]}}}\n---\napiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: b}\nspec: {namespaces: {selector: {matchLabels: {team: ml}}}}\n`, /NamespacePolicy "a" \(p\.yaml\) and NamespacePolicy "b" \(p\.yaml\) select overlapping namespaces/],
    ['an exempt policy with an empty selector (an exempt default in effect)', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {exempt: true, namespaces: {selector: {}}}\n`, /NamespacePolicy "a" \(p\.yaml\): spec\.exempt: an exempt policy must name its namespaces/],
    ['an exempt policy selecting every name (Exists)', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {exempt: true, namespaces: {selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [team]}]}}}\n`, /spec\.exempt: an exempt policy must name its namespaces/],
    ['an ownerKinds exemption without the controller identity', `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true, exemptions: [{rules: [gpu-squatting], ownerKinds: [DaemonSet], serviceAccounts: [agent]}]}\n`, /spec\.exemptions\[0\]\.ownerKinds: an ownerReference is written by whoever creates the Pod/],
  ])('rejects %s with file, document and field', (_name, text, expected) => {
    const problems = problemsOf(text);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('accepts an exempt policy pinning names by label, and ownerKinds paired with the controller identity', () => {
    expect(problemsOf(`apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {exempt: true, namespaces: {selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [gpu-operator]}]}}}\n`)).toEqual([]);
    expect(problemsOf(`apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true, exemptions: [{rules: [gpu-squatting], ownerKinds: [Job], users: ['system:serviceaccount:kube-system:job-controller']}]}\n`)).toEqual([]);
  });

  it('lists every problem, not just the first', () => {
    const problems = problemsOf(`apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true, mode: x, terminationGracePeriodSeconds: -1}\n`);
    expect(problems.length).toBeGreaterThanOrEqual(2);
  });

  it('ignores empty documents from a trailing ---', () => {
    expect(parsePolicies([{ path: 'p.yaml', text: `---\n${POOL}---\n` }]).pools).toHaveLength(1);
  });

  it('reads JSON policy files too', () => {
    const json = JSON.stringify({ apiVersion: 'gpu-admission.io/v1alpha1', kind: 'NamespacePolicy', metadata: { name: 'j' }, spec: { default: true } });
    expect(parsePolicies([{ path: 'p.json', text: json }]).policies[0]?.name).toBe('j');
  });

  it('serve rejects what policy validate rejects: an overlapping set is refused and the last good set keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpa-overlap-'));
    try {
      const doc = (name: string, spec: string): string => `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
      writeFileSync(join(dir, 'p.yaml'), [doc('d', '{default: true}'), doc('training', '{namespaces: {selector: {matchLabels: {profile: training}}}}')].join('---\n'));
      const lines: string[] = [];
      const results: boolean[] = [];
      const store = new PolicyStore({ dir, logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }), onReload: (ok) => void results.push(ok) });
      expect(await store.reload()).toBe(true);
      writeFileSync(join(dir, 'q.yaml'), doc('all', '{mode: audit, namespaces: {selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: Exists}]}}}'));
      expect(await store.reload('file change')).toBe(false);
      expect(results).toEqual([true, false]);
      expect(store.status.lastError).toMatch(/NamespacePolicy "all" \(q\.yaml\) and NamespacePolicy "training" \(p\.yaml\) select overlapping namespaces/);
      expect(lines.some((l) => l.includes('"event":"policies-rejected"'))).toBe(true);
      expect(store.engine?.resolver.resolve('default')?.name).toBe('d');
      writeFileSync(join(dir, 'q.yaml'), doc('all', '{exempt: true, namespaces: {selector: {}}}'));
      expect(await store.reload('file change')).toBe(false);
      expect(store.status.lastError).toContain('spec.exempt: an exempt policy must name its namespaces');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
