/**
 * `serve --workers 2`, the real built server (dist/, built by the global setup): both workers
 * answer, metrics are aggregated for one scrape, readiness covers the set, policy and certificate
 * reloads reach every worker, a killed worker is replaced, SIGTERM drains an in-flight review and
 * the primary exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCerts } from '../support/certs.js';
import { cgroupLimits, defaultWorkers, restartDelayMs } from '../../src/server/workers.js';
import { corpusReview, POLICIES_DIR } from '../support/app.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'gpa-workers-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}


type Res = { status: number; body: string; serial: string };

/** One request on a fresh connection (no keep-alive): the primary hands each to the next worker. */
function https(port: number, ca: string, path: string, opts: { body?: string; slow?: { halfSent(): void; release: Promise<void> } } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.body ? 'POST' : 'GET', ca, agent: false, servername: 'localhost',
      headers: opts.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial: (req.socket as TLSSocket).getPeerCertificate().serialNumber?.toLowerCase() ?? '' }));
    });
    req.on('error', reject);
    if (!opts.body) return void req.end();
    if (!opts.slow) return void req.end(opts.body);
    const half = Math.floor(opts.body.length / 2);
    const slow = opts.slow;
    req.write(opts.body.slice(0, half), () => slow.halfSent());
    void slow.release.then(() => req.end(opts.body!.slice(half)));
  });
}

function http(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

const until = async (check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

const metric = (text: string, line: RegExp): number => text.split('\n').filter((l) => line.test(l)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);

describe('serve --workers 2', () => {
  it('shares the port, aggregates metrics, reloads everywhere, replaces a dead worker and drains on SIGTERM', async () => {
    const certs = join(work, 'certs');
    const policies = join(work, 'policies');
    cpSync(POLICIES_DIR, policies, { recursive: true });
    mkdirSync(certs);
    const first = await writeCerts(certs);
    const [port, healthPort] = [await freePort(), await freePort()];
    const lines: Record<string, unknown>[] = [];
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'serve', '--workers', '2', '--policies', policies, '--host', '127.0.0.1',
      '--port', String(port), '--health-port', String(healthPort), '--cert', join(certs, 'tls.crt'), '--key', join(certs, 'tls.key'),
      '--shutdown-delay', '0', '--shutdown-timeout', '5', '--offline', '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const events = (event: string): Record<string, unknown>[] => lines.filter((l) => l['event'] === event);
    await until(() => events('workers-ready').length === 1, 20_000);

    // Both workers answer: fresh connections alternate between them (round-robin).
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const r = await https(port, first.ca, '/readyz');
      expect(r.status).toBe(200);
      const details = JSON.parse(r.body) as { worker: { pid: number }; workers: { ready: boolean; of: number } };
      expect(details.workers).toMatchObject({ ready: true, of: 2 });
      pids.add(details.worker.pid);
    }
    expect(pids.size).toBe(2);
    const ready = JSON.parse((await http(healthPort, '/readyz')).body) as { status: string; workers: { slots: { pid: number }[] } };
    expect(ready.status).toBe('ready');
    expect(new Set(ready.workers.slots.map((s) => s.pid))).toEqual(pids);

    // One scrape counts the reviews of both workers, on --health-port and on the review port alike.
    const review = JSON.stringify(corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference'));
    for (let i = 0; i < 6; i++) expect((await https(port, first.ca, '/mutate', { body: review })).status).toBe(200);
    const reviews = /^gpu_admission_reviews_total\{/;
    expect(metric((await http(healthPort, '/metrics')).body, reviews)).toBe(6);
    expect(metric((await https(port, first.ca, '/metrics')).body, reviews)).toBe(6);
    expect(metric((await http(healthPort, '/metrics')).body, /^gpu_admission_policy_generation /)).toBe(1);

    // SIGHUP to the primary reloads every worker; a broken policy file is rejected by each and the
    // last good set keeps serving.
    child.kill('SIGHUP');
    await until(() => events('policies-loaded').filter((l) => l['reason'] === 'SIGHUP').length === 2);
    writeFileSync(join(policies, 'zz-broken.yaml'), 'kind: [this is not YAML\n');
    await until(() => events('policies-rejected').length >= 2);
    expect(new Set(events('policies-rejected').map((l) => l['worker']))).toEqual(new Set([0, 1]));
    expect((await http(healthPort, '/readyz')).status).toBe(200);
    expect(metric((await http(healthPort, '/metrics')).body, /^gpu_admission_policy_last_reload_failed /)).toBe(1);
    rmSync(join(policies, 'zz-broken.yaml'));

    // Certificate rotation: each worker reloads; new connections to either get the new certificate.
    const second = await writeCerts(certs);
    await until(() => events('certificate-reloaded').length === 2);
    for (let i = 0; i < 4; i++) expect((await https(port, second.ca, '/healthz')).serial).toBe(second.serial.toLowerCase());

    // A killed worker is replaced, and the set is ready again with the new one.
    const victim = [...pids][0]!;
    process.kill(victim, 'SIGKILL');
    await until(() => events('worker-exited').length === 1);
    expect(events('worker-exited')[0]).toMatchObject({ pid: victim, signal: 'SIGKILL' });
    await until(async () => {
      const r = JSON.parse((await http(healthPort, '/readyz')).body) as { status: string; workers: { slots: { pid?: number; ready: boolean; listening: boolean }[] } };
      return r.status === 'ready' && r.workers.slots.every((s) => s.pid !== undefined && s.pid !== victim && s.listening && s.ready);
    });

    // SIGTERM drains: a review whose body is half sent completes, then the primary exits 0.
    let halfSent!: () => void;
    const sent = new Promise<void>((r) => (halfSent = r));
    let release!: () => void;
    const inFlight = https(port, second.ca, '/mutate', { body: review, slow: { halfSent, release: new Promise<void>((r) => (release = r)) } });
    await sent;
    child.kill('SIGTERM');
    await until(() => events('worker-stopped').length >= 1 || events('shutdown').filter((l) => l['worker'] !== undefined).length === 2);
    await new Promise((r) => setTimeout(r, 200));
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(await exited).toBe(0);
    expect(events('worker-stopped').map((l) => l['code'])).toEqual([0, 0]);
    await expect(https(port, second.ca, '/healthz')).rejects.toThrow();
  }, 40_000);
});

describe('default worker count', () => {
  const limits = (files: Record<string, string>): ReturnType<typeof cgroupLimits> => {
    const root = mkdtempSync(join(work, 'cg-'));
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), text);
    }
    writeFileSync(join(root, 'self-cgroup'), files['self-cgroup'] ?? '0::/\n');
    return cgroupLimits(root, join(root, 'self-cgroup'));
  };

  it('reads cgroup v2 and v1 CPU quotas and memory limits', () => {
    expect(limits({ 'cpu.max': '250000 100000\n', 'memory.max': `${512 * 1048576}\n` })).toEqual({ cpus: 2, memoryBytes: 512 * 1048576 });
    expect(limits({ 'cpu.max': 'max 100000\n', 'memory.max': 'max\n' })).toEqual({});
    expect(limits({ 'cpu.max': '50000 100000\n' })).toEqual({ cpus: 1 });
    expect(limits({ 'cpu/cpu.cfs_quota_us': '400000\n', 'cpu/cpu.cfs_period_us': '100000\n', 'memory/memory.limit_in_bytes': '9223372036854771712\n' })).toEqual({ cpus: 4 });
    expect(limits({ 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n', 'memory/memory.limit_in_bytes': `${1024 * 1048576}\n` })).toEqual({ memoryBytes: 1024 * 1048576 });
  });

  it('uses the CPUs the container may use, within its memory limit; 1 with a cluster view', () => {
    expect(defaultWorkers({ clusterView: false, limits: {}, parallelism: 8 }).workers).toBe(8);
    expect(defaultWorkers({ clusterView: false, limits: { cpus: 2 }, parallelism: 64 }).workers).toBe(2);
    // The shipped Deployment: no CPU limit, 256 MiB: one worker (the primary and two would not fit).
    expect(defaultWorkers({ clusterView: false, limits: { memoryBytes: 256 * 1048576 }, parallelism: 64 }).workers).toBe(1);
    expect(defaultWorkers({ clusterView: false, limits: { memoryBytes: 1024 * 1048576 }, parallelism: 64 }).workers).toBe(7);
    expect(defaultWorkers({ clusterView: true, limits: { cpus: 8 }, parallelism: 8 }).workers).toBe(1);
  });

  it('backs off restarts from 0.5 s to 30 s', () => {
    expect([1, 2, 3, 4, 7, 20].map(restartDelayMs)).toEqual([500, 1000, 2000, 4000, 30_000, 30_000]);
  });
});
