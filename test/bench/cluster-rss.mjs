#!/usr/bin/env node
// RSS of `serve` with a cluster view: the webhook watches a minimal fake API server (HTTPS,
// token user) that lists 1,000 namespaces (the ones the bench's 1,000 NamespacePolicies select),
// a few GPU nodes and the PriorityClasses the policies name, answers 404 for resource.k8s.io/v1
// and keeps watches open without events. After the informers synced, reviews go to /mutate
// across the namespaces; then VmRSS and VmHWM of the server are read from /proc.
//
//   npm run build && node test/bench/cluster-rss.mjs [--policies n] [--node-args="--max-semi-space-size=4"]
//
// bench.mjs runs it as a child (`--json --policies-dir <d> --cert-dir <d> --node-args "..."`): it imports bench.mjs, whose
// top-level await would never settle if bench.mjs imported it back.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCorpus, Conn, freePort, manyPoliciesDir, procStatus, requestBuffer, sendOnce, spreadOver } from './bench.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WATCHED = ['namespaces', 'nodes', 'priorityclasses'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The cluster the fake API server lists: namespace ns-i carries the label policy i selects by. */
function clusterObjects(namespaces) {
  const ns = Array.from({ length: namespaces }, (_, i) => ({
    metadata: { name: `ns-${i}`, uid: randomUUID(), resourceVersion: String(100 + i), creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'kubernetes.io/metadata.name': `ns-${i}`, 'gpu-admission.io/team': `team-${i}` } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }));
  const pools = [
    { labels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, resource: 'nvidia.com/gpu', taint: 'nvidia.com/gpu', count: 8, gpus: '4' },
    { labels: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, resource: 'nvidia.com/gpu', taint: 'nvidia.com/gpu', count: 8, gpus: '8' },
    { labels: { 'cloud.google.com/gke-accelerator': 'nvidia-tesla-a100', 'nvidia.com/mig.strategy': 'mixed' }, resource: 'nvidia.com/mig-1g.5gb', taint: 'nvidia.com/gpu', count: 4, gpus: '56' },
    { labels: { 'amd.com/gpu.product-name': 'AMD_Instinct_MI300X_OAM' }, resource: 'amd.com/gpu', taint: 'amd.com/gpu', count: 4, gpus: '8' },
  ];
  const nodes = [];
  for (const [p, pool] of pools.entries()) {
    for (let i = 0; i < pool.count; i++) {
      const name = `gpu-${p}-${i}`;
      nodes.push({
        metadata: { name, uid: randomUUID(), resourceVersion: String(5000 + nodes.length), labels: { ...pool.labels, 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: { taints: [{ key: pool.taint, value: 'present', effect: 'NoSchedule' }] },
        status: { allocatable: { cpu: '95', memory: '360Gi', 'ephemeral-storage': '500Gi', pods: '110', [pool.resource]: pool.gpus } },
      });
    }
  }
  for (let i = 0; i < 8; i++) {
    nodes.push({ metadata: { name: `cpu-${i}`, uid: randomUUID(), resourceVersion: String(6000 + i), labels: { 'kubernetes.io/hostname': `cpu-${i}` } }, spec: {}, status: { allocatable: { cpu: '16', memory: '64Gi', pods: '110' } } });
  }
  const classes = [['inference-critical', 1000000], ['inference-standard', 100000], ['training-batch', 10000], ['training-preemptible', 1000], ['notebook-interactive', 500]]
    .map(([name, value]) => ({ metadata: { name, uid: randomUUID(), resourceVersion: '9' }, value, preemptionPolicy: 'PreemptLowerPriority', globalDefault: false }));
  return { '/api/v1/namespaces': ns, '/api/v1/nodes': nodes, '/apis/scheduling.k8s.io/v1/priorityclasses': classes };
}

/** The fake API server; returns { port, close, counts }. */
async function fakeApiServer(certDir, lists) {
  const counts = { lists: 0, watches: 0, other: 0 };
  const open = new Set();
  const server = createServer({ cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== 'Bearer bench-token') return send(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
    const items = lists[url.pathname];
    if (items && url.searchParams.get('watch') === 'true') {
      counts.watches++;
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      open.add(res);
      res.on('close', () => open.delete(res));
      return;
    }
    if (items) {
      counts.lists++;
      const limit = Number(url.searchParams.get('limit') ?? 0) || items.length;
      const from = Number(url.searchParams.get('continue') ?? 0);
      const next = from + limit < items.length ? String(from + limit) : undefined;
      return send(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '10000', ...(next ? { continue: next } : {}) }, items: items.slice(from, from + limit) });
    }
    counts.other++;
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    counts,
    close: () => new Promise((resolve) => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** GET /readyz over TLS: { status, body } (body parsed), or undefined while not listening. */
async function readyz(target) {
  const conn = new Conn(target);
  try {
    await conn.open();
    const { status, body } = await sendOnce(conn, Buffer.from(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n\r\n`, 'latin1'));
    return { status, body: JSON.parse(body.toString('utf8')) };
  } catch {
    return undefined;
  } finally {
    conn.close();
  }
}

/**
 * Starts `serve` with a kubeconfig for a fake API server, waits until it is ready and the
 * informers synced, sends reviews across the namespaces and reads the server's RSS.
 * policiesDir: default the bench's 1,000 NamespacePolicies; certDir: tls.crt, tls.key, ca.crt
 * (default: `gpu-admission certs` into a temp dir). Returns { rssMiB, peakMiB, synced }.
 */
export async function measureClusterRss({ root = ROOT, policiesDir, certDir, nodeArgs = [], log = () => undefined, policies = 1000, reviews = 2000, connections = 8, env = {} } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'gpu-admission-cluster-rss-'));
  let api;
  let child;
  try {
    if (!certDir) {
      certDir = join(scratch, 'certs');
      await new Promise((resolve, reject) => spawn(process.execPath, [join(root, 'dist', 'main.js'), 'certs', '--out', certDir], { stdio: 'ignore' })
        .once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gpu-admission certs exited with ${code}`)))));
    }
    if (!policiesDir) policiesDir = manyPoliciesDir(policies);
    const ca = readFileSync(join(certDir, 'ca.crt'));
    api = await fakeApiServer(certDir, clusterObjects(policies));
    const kubeconfig = join(scratch, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: bench',
      'clusters:', '- name: bench', '  cluster:', `    server: https://127.0.0.1:${api.port}`, `    certificate-authority: ${join(certDir, 'ca.crt')}`,
      'users:', '- name: bench', '  user:', '    token: bench-token',
      'contexts:', '- name: bench', '  context:', '    cluster: bench', '    user: bench', '',
    ].join('\n'));
    const port = await freePort();
    const args = [...nodeArgs, join(root, 'dist', 'main.js'), 'serve', '--kubeconfig', kubeconfig, '--policies', policiesDir, '--port', String(port), '--host', '127.0.0.1',
      '--cert', join(certDir, 'tls.crt'), '--key', join(certDir, 'tls.key'), '--log-level', 'warn', '--workers', '1', '--shutdown-delay', '0'];
    child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    const keep = (d) => { output = (output + d).slice(-4000); };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let gone = false;
    void exited.then(() => { gone = true; });

    const target = { port, ca };
    const t0 = Date.now();
    let synced = false;
    for (;;) {
      if (gone) throw new Error(`serve exited during start-up: ${output.trim()}`);
      const r = await readyz(target);
      const done = r?.body?.cluster?.synced ?? [];
      if (r?.status === 200 && WATCHED.every((w) => done.includes(w))) {
        synced = true;
        break;
      }
      if (Date.now() - t0 > 60_000) break;
      await sleep(100);
    }
    const readyMs = Date.now() - t0;
    const idle = procStatus(child.pid);
    log(`serve with a cluster view: ${synced ? 'synced' : 'NOT synced'} in ${readyMs} ms (API server: ${api.counts.lists} lists, ${api.counts.watches} watches), idle RSS ${idle.rssMiB.toFixed(1)} MiB`);

    const { entries, corpusCount } = buildCorpus();
    const bodies = spreadOver(entries.slice(0, corpusCount), policies, reviews).map((e) => requestBuffer('/mutate?timeout=10s', port, Buffer.from(JSON.stringify(e.review))));
    const conns = Array.from({ length: connections }, () => new Conn(target));
    await Promise.all(conns.map((c) => c.open()));
    let next = 0;
    let errors = 0;
    try {
      await Promise.all(conns.map(async (c) => {
        while (next < bodies.length) {
          const { status } = await sendOnce(c, bodies[next++]);
          if (status !== 200) errors++;
        }
      }));
    } finally {
      for (const c of conns) c.close();
    }
    await sleep(200);
    const { rssMiB, hwmMiB: peakMiB } = procStatus(child.pid);
    log(`after ${bodies.length} reviews over ${policies} namespaces (${errors} errors): RSS ${rssMiB.toFixed(1)} MiB, peak ${peakMiB.toFixed(1)} MiB`);
    if (errors) throw new Error(`${errors} reviews did not get HTTP 200`);
    return { rssMiB, peakMiB, synced, idleMiB: idle.rssMiB, readyMs };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    }
    await api?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({ options: {
    policies: { type: 'string', default: '1000' }, 'node-args': { type: 'string' }, 'policies-dir': { type: 'string' }, 'cert-dir': { type: 'string' }, json: { type: 'boolean', default: false },
  } });
  const settings = values['node-args'] !== undefined ? [values['node-args'].split(/\s+/).filter(Boolean)] : [['--max-semi-space-size=4'], []];
  const policiesDir = values['policies-dir'] ?? manyPoliciesDir(Number(values.policies));
  try {
    for (const nodeArgs of settings) {
      const r = await measureClusterRss({ policiesDir, certDir: values['cert-dir'], nodeArgs, policies: Number(values.policies), log: (m) => console.log(`  ${m}`) });
      // --json (how bench.mjs runs it, in a process of its own: this module imports bench.mjs): one line of figures.
      if (values.json) console.log(JSON.stringify(r));
      else {
        console.log(`cluster view, ${values.policies} policies, node ${nodeArgs.join(' ') || '(no flags)'}: RSS ${r.rssMiB.toFixed(1)} MiB, peak ${r.peakMiB.toFixed(1)} MiB, synced ${r.synced}` +
          `${process.env.GPU_ADMISSION_FULL_CLIENT === '1' ? ' (GPU_ADMISSION_FULL_CLIENT=1)' : ''}`);
      }
    }
  } finally {
    if (!values['policies-dir']) rmSync(policiesDir, { recursive: true, force: true });
  }
}
