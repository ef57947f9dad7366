/** `gpu-admission onboard --out`: running twice changes nothing, a different file is never overwritten silently. */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generate, render } from '../../src/onboard/generate.js';
import { resolvePlan } from '../../src/onboard/plan.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { cli, POLICIES, policyDirCopy } from './support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = (): string => {
  const d = policyDirCopy();
  dirs.push(d);
  return d;
};

function snapshot(dir: string): Record<string, { text: string; mtime: number }> {
  const out: Record<string, { text: string; mtime: number }> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length + 1)] = { text: readFileSync(p, 'utf8'), mtime: statSync(p).mtimeMs };
    }
  };
  walk(dir);
  return out;
}

const ONBOARD = ['onboard', 'team-a', '--profile', 'inference', '--pools', 'l4,a100-80gb'];

describe('onboarding is idempotent', () => {
  it('the same plan generates the same bytes', async () => {
    const set = await loadPolicyDir(POLICIES);
    const once = (): string => {
      const plan = resolvePlan({ namespace: 'team-a', profile: 'notebook' }, set);
      return JSON.stringify(render(generate(plan), plan));
    };
    expect(once()).toBe(once());
  });

  it('a second run into the policy directory writes nothing, and the directory still loads (manifests/ is not read as policies)', async () => {
    const dir = temp();
    const first = await cli([...ONBOARD, '--policies', dir, '--out', dir]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toEqual([
      `${dir}/team-a.policy.yaml created`,
      `${dir}/manifests/priorityclass.inference-critical.yaml created`,
      `${dir}/manifests/team-a.namespace.yaml created`,
      `${dir}/manifests/team-a.resourcequota.yaml created`,
    ]);
    const before = snapshot(dir);
    const second = await cli([...ONBOARD, '--policies', dir, '--out', dir]);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(second.stdout.trim().split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
    expect(snapshot(dir)).toEqual(before);

    const set = await loadPolicyDir(dir);
    expect(set.files.some((f) => f.includes('manifests'))).toBe(false);
    expect(set.policies.find((p) => p.name === 'team-a')?.namespaces.names).toEqual(['team-a']);
    const validate = await cli(['policy', 'validate', dir]);
    expect(validate.code).toBe(0);
  });

  it('stating a default explicitly changes only comments: the file is left as it is', async () => {
    const dir = temp();
    expect((await cli([...ONBOARD, '--policies', dir, '--out', dir])).code).toBe(0);
    const before = snapshot(dir);
    const r = await cli([...ONBOARD, '--max-gpus-per-pod', '8', '--policies', dir, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${dir}/team-a.policy.yaml unchanged`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('printing twice gives the same stream', async () => {
    const a = await cli([...ONBOARD, '--policies', POLICIES]);
    const b = await cli([...ONBOARD, '--policies', POLICIES]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('refuses to overwrite a different policy or file without --force, and writes nothing at all', async () => {
    const dir = temp();
    expect((await cli([...ONBOARD, '--policies', dir, '--out', dir])).code).toBe(0);
    const before = snapshot(dir);
    const changed = await cli([...ONBOARD, '--gpu-quota', '8', '--max-gpus-per-pod', '4', '--policies', dir, '--out', dir]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('error: NamespacePolicy "team-a" already exists in team-a.policy.yaml and differs: accelerators.maxPerPod: 8 -> 4');
    expect(changed.stderr).toContain(`error: ${dir}/manifests/team-a.resourcequota.yaml exists and differs from what onboarding generates`);
    expect(changed.stderr).toContain('onboarding team-a stopped: 2 error(s); nothing was written');
    expect(snapshot(dir)).toEqual(before);

    const forced = await cli([...ONBOARD, '--gpu-quota', '8', '--max-gpus-per-pod', '4', '--policies', dir, '--out', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`${dir}/team-a.policy.yaml updated`);
    expect(forced.stdout).toContain(`${dir}/manifests/team-a.resourcequota.yaml updated`);
    expect(forced.stdout).toContain(`${dir}/manifests/team-a.namespace.yaml unchanged`);
    expect((await loadPolicyDir(dir)).policies.find((p) => p.name === 'team-a')?.accelerators.maxPerPod).toBe(4);
  });

  it('an equal policy kept in another file of the directory is left there, never defined twice', async () => {
    const dir = temp();
    expect((await cli([...ONBOARD, '--policies', dir, '--out', dir])).code).toBe(0);
    renameSync(join(dir, 'team-a.policy.yaml'), join(dir, 'teams.yaml'));
    const again = await cli([...ONBOARD, '--policies', dir, '--out', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`NamespacePolicy "team-a" is already in ${dir}/teams.yaml: unchanged`);
    expect(existsSync(join(dir, 'team-a.policy.yaml'))).toBe(false);
    expect((await cli(['policy', 'validate', dir])).code).toBe(0);
  });

  it('writes into a separate directory too, and refuses there to overwrite a file edited by hand', async () => {
    const out = temp();
    const args = [...ONBOARD, '--policies', POLICIES, '--out', join(out, 'review')];
    expect((await cli(args)).code).toBe(0);
    writeFileSync(join(out, 'review', 'manifests', 'team-a.namespace.yaml'), 'edited: by hand\n');
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('team-a.namespace.yaml exists and differs');
    expect(readFileSync(join(out, 'review', 'manifests', 'team-a.namespace.yaml'), 'utf8')).toBe('edited: by hand\n');
  });
});

describe('onboard usage errors exit 2', () => {
  it.each([
    [['onboard', 'team-a'], /--profile must be one of inference, training, batch, notebook/],
    [['onboard', 'team-a', '--profile', 'gaming'], /--profile must be one of .*got "gaming"/],
    [['onboard', '--profile', 'inference'], /onboard takes one namespace/],
    [['onboard', 'team-a', '--profile', 'inference', '--grace', 'soon'], /--grace must be a duration such as 90s, 15m or 1h30m, got "soon"/],
    [['onboard', 'team-a', '--profile', 'inference', '--mode', 'block'], /--mode must be enforce, warn or audit/],
    [['onboard', 'team-a', '--profile', 'inference', '--dry-run=server'], /--dry-run=server goes with --apply/],
    [['onboard', 'team-a', '--profile', 'inference', '--gpu-quota', 'lots'], /--gpu-quota must be a whole number/],
    [['onboard', 'team-a', '--profile', 'inference', '--labels', 'novalue'], /--labels: "novalue" is not key=value/],
    [['onboard', 'team-a', '--profile', 'inference', '--pools', 'l4', '--apply'], /no cluster configuration/],
    [['onboard', 'team-a', '--profile', 'inference', '--policies', '/nonexistent'], /--policies \/nonexistent: ENOENT/],
    [['onboard', 'team-a', '--profile', 'inference', '--bogus'], /Unknown option '--bogus'/],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});
