/**
 * Golden outputs of `gpu-admission onboard`, one per profile against the shipped catalogue.
 * Regenerate after an intended change with `UPDATE_GOLDEN=1 npx vitest run --config test/vitest.config.ts test/onboard`
 * and review the diff.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, render, renderStream } from '../../src/onboard/generate.js';
import { type OnboardOptions, resolvePlan } from '../../src/onboard/plan.js';
import { PROFILE_NAMES, PROFILES } from '../../src/onboard/profiles.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { parsePolicies } from '../../src/policy/parse.js';
import type { PolicySet } from '../../src/policy/types.js';
import { parseYamlDocuments } from '../../src/util/yaml.js';
import { cli, golden, POLICIES } from './support.js';

const CASES: Record<string, { options: OnboardOptions; flags: string[] }> = {
  inference: { options: { namespace: 'chat', profile: 'inference', pools: ['l4', 'a100-80gb'] }, flags: ['chat', '--profile', 'inference', '--pools', 'l4,a100-80gb'] },
  training: { options: { namespace: 'llm-train', profile: 'training', pools: ['a100-80gb'] }, flags: ['llm-train', '--profile', 'training', '--pools', 'a100-80gb'] },
  batch: { options: { namespace: 'scoring', profile: 'batch', pools: ['t4'] }, flags: ['scoring', '--profile', 'batch', '--pools', 't4'] },
  notebook: { options: { namespace: 'lab', profile: 'notebook' }, flags: ['lab', '--profile', 'notebook'] },
  'inference-every-flag': {
    options: {
      namespace: 'chat-eu', profile: 'inference', pools: ['l4', 'a100-80gb'], defaultPool: 'a100-80gb', maxGpusPerPod: 2, gpuQuota: 4,
      startupBudgetSeconds: 1200, graceSeconds: 90, mode: 'warn', labels: { team: 'ml', 'cost-center': 'c42' },
    },
    flags: ['chat-eu', '--profile', 'inference', '--pools', 'l4,a100-80gb', '--default-pool', 'a100-80gb', '--max-gpus-per-pod', '2',
      '--gpu-quota', '4', '--startup-budget', '20m', '--grace', '90s', '--mode', 'warn', '--labels', 'team=ml,cost-center=c42'],
  },
};

const POOLS_TEXT = readFileSync(`${POLICIES}/pools.yaml`, 'utf8');
let set: PolicySet;
beforeAll(async () => {
  set = await loadPolicyDir(POLICIES);
});

function stream(o: OnboardOptions): string {
  const plan = resolvePlan(o, set);
  return renderStream(render(generate(plan), plan));
}

describe('onboarding output per profile (golden)', () => {
  it.each(Object.keys(CASES))('%s', (name) => {
    golden(`${name}.yaml`, stream(CASES[name]!.options));
  });

  it('every profile is covered', () => {
    for (const p of PROFILE_NAMES) expect(Object.keys(CASES)).toContain(p);
  });

  it.each(Object.keys(CASES))('%s: the CLI prints exactly the golden stream, and it is valid YAML', async (name) => {
    const r = await cli(['onboard', ...CASES[name]!.flags, '--policies', POLICIES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(stream(CASES[name]!.options));
    const kinds = parseYamlDocuments(r.stdout).map((d) => (d.value as { kind: string }).kind);
    expect(kinds[0]).toBe('NamespacePolicy');
    expect(kinds).toContain('Namespace');
    expect(kinds).toContain('ResourceQuota');
  });

  it.each(PROFILE_NAMES)('%s: the generated policy passes the schema and the cross-document checks with the catalogue', (profile) => {
    const o = Object.values(CASES).find((c) => c.options.profile === profile)!.options;
    const plan = resolvePlan(o, set);
    const policy = render(generate(plan), plan)[0]!;
    const loaded = parsePolicies([{ path: 'pools.yaml', text: POOLS_TEXT }, { path: policy.path, text: policy.text }]);
    expect(loaded.policies.map((p) => p.name)).toEqual([o.namespace]);
  });

  it('documents every profile default with a reason', () => {
    for (const p of Object.values(PROFILES)) {
      for (const [setting, why] of Object.entries(p.why)) expect(why.length, `${p.name}.${setting}`).toBeGreaterThan(20);
    }
  });
});
