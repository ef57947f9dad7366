/** `gpu-admission diagnose` usage as a user meets it (no cluster needed): exit 2 with a pointer to the help. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeError, parseRef, ReadRefused } from '../../src/cluster/diagnose-read.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), 'diagnose', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });

describe('diagnose command line', () => {
  it.each([
    [[], 'give pod/<name>, deployment/<name> (or another <kind>/<name>), or --pending'],
    [['pod/a', '--pending'], '--pending diagnoses every Pending Pod: give no pod/<name>'],
    [['pod/a', '-o', 'yaml'], '--output must be text or json, got "yaml"'],
    [['pod/a', '--timeout', '0'], '--timeout must be at least 1 second'],
  ])('%j exits 2: %s', (args, message) => {
    const r = cli(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("Run 'gpu-admission diagnose --help'");
  });

  it('without a cluster configuration: exit 2 naming how to give one', () => {
    const r = cli(['pod/a', '--policies', join(ROOT, 'policies')], { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent', KUBERNETES_SERVICE_HOST: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no cluster configuration');
  });

  it('reads <kind>/<name> with the kubectl short names', () => {
    expect(parseRef('deploy/llm')).toEqual({ kind: 'deployment', name: 'llm' });
    expect(parseRef('sts/db')).toEqual({ kind: 'statefulset', name: 'db' });
    expect(parseRef('LeaderWorkerSet/lws')).toEqual({ kind: 'leaderworkerset', name: 'lws' });
    expect(() => parseRef('llm')).toThrow(/is not <kind>\/<name>/);
  });

  it('an RBAC refusal names the verb and resource to grant', () => {
    const u = describeError({ code: 403, message: 'Forbidden' }, 'list', 'nodes');
    expect(u).toEqual({ verb: 'list', resource: 'nodes', message: 'forbidden by RBAC: grant verb "list" on resource "nodes" (cluster-wide) — see docs/diagnose.md' });
    const e = new ReadRefused(describeError({ code: 403 }, 'get', 'pods', 'inference'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('cannot get pods in namespace inference: forbidden by RBAC: grant verb "get" on resource "pods" (namespace inference, or cluster-wide) — see docs/diagnose.md');
  });
});
