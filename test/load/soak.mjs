#!/usr/bin/env node
// Soak and fault test of the real webhook process (dist/main.js serve) on 127.0.0.1.
//
//   npm run soak                                  # builds, then ~60 s soak + ~15 s stuck-API phase
//   node test/load/soak.mjs --seconds 20 --stall-seconds 8
//
// Phase "soak" (offline, a temp copy of policies/ and a certificate from `gpu-admission certs`):
// closed-loop load at the highest rate the machine allows (--connections keep-alive HTTPS
// connections, pre-serialised reviews of the bench corpus), RSS of the server sampled every second
// (/proc/<pid>/status VmRSS), and, while the load runs:
//   at 20 % a policy file is replaced by an invalid one: the last good policies keep serving (the
//          probe review's answer does not change), no review fails, the log shows
//          "policies-rejected" and /metrics gpu_admission_policy_last_reload_failed 1;
//   at 40 % a valid new one (terminationGracePeriodSeconds 120 -> 180): picked up within seconds (the
//          probe review's patch changes), no review fails, last_reload_failed back to 0;
//   at 60 % the certificate is rotated (a new leaf under the same CA, tls.crt and tls.key replaced by
//          rename): no review or handshake fails, new connections see the new serial;
//   at the end SIGTERM with --shutdown-delay 2: /readyz turns 503 first, reviews keep being answered
//          while "endpoints update" (the load stops issuing 1 s after it sees 503, as the API server
//          would once the endpoint is gone), every in-flight review completes, new connections are
//          refused only after readiness went false, and the process exits within the grace period.
// Every review's answer is checked (HTTP 200 and its uid echoed); the server's review log lines are
// counted against the answers. Memory: RSS every second and the V8 heap (the server's /metrics) every
// second; the leak check compares the post-GC heap floor of the two halves (from 40 s of load), and
// RSS growth is reported (it rises for about a minute while V8 sizes its heap: use --seconds 240 to
// see the plateau).
//
// Phase "stall": the server watches a fake API server (test/load/fake-apiserver.mjs) that answers
// the initial LISTs and then never answers a WATCH (or anything else): reviews keep being answered
// from the cache (an open loop at --stall-rate; p50/p99 reported, a label-selected namespace known only from the cluster is
// governed by its policy), a namespace the cache never saw is answered within the 1 s bounded read,
// and SIGTERM still stops the process.
//
// Phase "slow": --slow-clients (default 1000) TLS clients each announce a body just under the 3 MiB
// limit and dribble it a byte a second, reconnecting when cut off, against a server run with
// --request-timeout 5 and the default in-flight byte and connection caps. A keep-alive connection
// opened before them (as the API server's are) keeps sending well-formed reviews. Checks: server
// RSS stays under the Deployment's 256 Mi limit, every review is answered, and every slow client is
// answered 408 (deadline) or 503 (in-flight cap), or dropped at accept (connection cap), in time.
//
// With --stall-mode silent-stream the watches get their 200 and headers, then silence (a watch stream
// whose peer went away without a FIN) instead of no answer at all.
//
// Options: --seconds <s> (soak load, default 60), --stall-seconds <s> (default 15), --stall-mode
// no-response|silent-stream (default no-response), --stall-rate <reviews/s> (open loop of the stall
// phase, default 500), --connections <n>
// (default 32), --slow-seconds <s> (default 12), --slow-clients <n> (default 1000),
// --log-level <level> (server, default debug: every review logs a line, plain allows included,
// so 'nothing lost' counts every answer; production's info logs only what denies, warns or patches), --phases soak,stall,slow,
// --keep (keep the temp directory), --help.
// Prints a table and a final JSON line. Exit status: 0 every invariant held; 1 an invariant broke;
// 2 the script failed; 3 it overran its time limit; 130 on SIGINT/SIGTERM. Children, the fake API
// server and the temp directory are removed in every case.
import { spawn } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCorpus, Conn, freePort, requestBuffer, sendOnce } from '../bench/bench.mjs';
import { FAKE_NAMESPACES, startFakeApiServer } from './fake-apiserver.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');
const SHUTDOWN_DELAY = 2;
const SHUTDOWN_TIMEOUT = 10;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------
function options() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' }, 'stall-seconds': { type: 'string', default: '15' },
      connections: { type: 'string', default: '32' }, 'log-level': { type: 'string', default: 'debug' },
      'stall-rate': { type: 'string', default: '500' }, phases: { type: 'string', default: 'soak,stall,slow,worst' }, 'worst-seconds': { type: 'string', default: '10' },
      'slow-seconds': { type: 'string', default: '12' }, 'slow-clients': { type: 'string', default: '1000' }, 'stall-mode': { type: 'string', default: 'no-response' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log('usage: node test/load/soak.mjs [--seconds 60] [--stall-seconds 15] [--stall-mode no-response|silent-stream] [--stall-rate 500] [--connections 32] [--slow-seconds 12] [--slow-clients 1000] [--worst-seconds 10] [--log-level debug] [--phases soak,stall,slow,worst] [--keep]');
    process.exit(0);
  }
  const num = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${values[name]}`);
    return n;
  };
  return {
    seconds: num('seconds', 10), stallSeconds: num('stall-seconds', 3), stallRate: num('stall-rate', 1), connections: Math.floor(num('connections', 1)),
    stallMode: ['no-response', 'silent-stream'].includes(values['stall-mode']) ? values['stall-mode'] : (() => { throw new Error('--stall-mode is no-response or silent-stream'); })(),
    slowSeconds: num('slow-seconds', 3), slowClients: Math.floor(num('slow-clients', 1)), worstSeconds: num('worst-seconds', 3),
    logLevel: values['log-level'], phases: new Set(values.phases.split(',').map((p) => p.trim())), keep: values.keep,
  };
}

// ---------------------------------------------------------------------------------------------
// Processes, temp dirs, clean-up
// ---------------------------------------------------------------------------------------------
const children = new Set();
const tempDirs = new Set();
const closers = new Set();
let keepTemp = false;

function cleanupSync() {
  for (const child of children) { try { child.kill('SIGKILL'); } catch { /* gone */ } }
  children.clear();
  for (const close of closers) { try { close(); } catch { /* ignore */ } }
  closers.clear();
  if (!keepTemp) for (const dir of tempDirs) { try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ } }
  tempDirs.clear();
}

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(args, label) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.once('exit', (c) => { children.delete(child); resolve(c); }));
  if (code !== 0) throw new Error(`${label} failed (${code}): ${out.trim()}`);
  return out;
}

/**
 * The webhook as a child process. Its JSON log lines are read as they come: review lines are only
 * counted (cheaply), every other line is kept with the time it arrived.
 */
function startServer({ name, policies, certDir, port, healthPort, logLevel, kubeconfig, extraArgs = [] }) {
  const args = [
    MAIN, 'serve', '--policies', policies, '--host', '127.0.0.1', '--port', String(port), '--health-port', String(healthPort),
    '--cert', join(certDir, 'tls.crt'), '--key', join(certDir, 'tls.key'), '--shutdown-delay', String(SHUTDOWN_DELAY),
    '--shutdown-timeout', String(SHUTDOWN_TIMEOUT), '--log-level', logLevel,
    // One process: the soak follows one pid (RSS, signals); serve would default to one worker per CPU offline.
    '--workers', '1', ...(kubeconfig ? ['--kubeconfig', kubeconfig] : ['--offline']), ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const s = { name, child, pid: child.pid, port, healthPort, reviewLines: 0, events: [], stderr: '', exit: undefined };
  let rest = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.includes('"event":"review"')) { s.reviewLines++; continue; }
      try {
        s.events.push({ t: performance.now(), ...JSON.parse(line) });
      } catch {
        s.events.push({ t: performance.now(), raw: line });
      }
      if (s.events.length > 2000) s.events.shift();
    }
    rest = text.slice(start);
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { s.stderr = (s.stderr + d).slice(-4000); });
  s.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    s.exit = { code, signal, t: performance.now() };
    resolve(s.exit);
  }));
  return s;
}

// ---------------------------------------------------------------------------------------------
// HTTP: plain GETs on the health port, a minimal keep-alive HTTP/1.1 client over TLS for reviews
// ---------------------------------------------------------------------------------------------
function get(port, path, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function metric(port, name) {
  const { body } = await get(port, '/metrics');
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} ([0-9.e+-]+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

// The lean keep-alive TLS client is the benchmark's: one implementation for both scripts.

/** One review on a fresh connection: the serial the handshake presented and the answer. */
async function freshReview(target, request) {
  const conn = new Conn(target);
  try {
    const socket = await conn.open();
    const serial = socket.getPeerCertificate().serialNumber;
    const { status, body } = await sendOnce(conn, request.buf);
    return { serial, ok: status === 200 && body.includes(request.uid), status };
  } finally {
    conn.close();
  }
}

async function waitFor(what, check, timeoutMs, everyMs = 50) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch { /* not yet */ }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Reviews
// ---------------------------------------------------------------------------------------------
function podReview(namespace, spec, name = 'probe') {
  const gvk = { group: '', version: 'v1', kind: 'Pod' };
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: randomUUID(), kind: gvk, resource: { group: '', version: 'v1', resource: 'pods' }, name, namespace, operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:authenticated'] },
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec }, oldObject: null, dryRun: false,
    },
  };
}

const gpuSpec = () => ({
  containers: [{ name: 'model', image: 'vllm/vllm-openai:v0.10.0', resources: { limits: { 'nvidia.com/gpu': '1', memory: '16Gi', cpu: '4' }, requests: { 'nvidia.com/gpu': '1', memory: '16Gi', cpu: '4' } } }],
});

function prepared(path, port, review) {
  const body = Buffer.from(JSON.stringify(review));
  return { buf: requestBuffer(path, port, body), uid: Buffer.from(`"uid":${JSON.stringify(review.request.uid)}`) };
}

function decodeAnswer(body) {
  const out = JSON.parse(body.toString('utf8'));
  const r = out.response ?? {};
  const patch = typeof r.patch === 'string' ? JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) : [];
  return { out, r, patch };
}

// ---------------------------------------------------------------------------------------------
// Closed-loop load with per-window accounting
// ---------------------------------------------------------------------------------------------
const newHist = () => createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
const pct = (h, p) => (h.count > 0 ? h.percentile(p) / 1000 : NaN);

class Load {
  constructor(target, requests, conns) {
    Object.assign(this, { target, requests, conns });
    this.next = 0;
    this.inFlight = 0;
    this.issuing = false;
    this.window = 'warm-up';
    this.windows = new Map();
    this.total = { completed: 0, errors: 0 };
    this.errorSamples = [];
    this.perSecond = [];
    this.lastAnswerAt = 0;
  }

  win(name = this.window) {
    let w = this.windows.get(name);
    if (!w) {
      w = { name, completed: 0, errors: 0, hist: newHist(), startedAt: performance.now(), endedAt: undefined };
      this.windows.set(name, w);
    }
    return w;
  }

  setWindow(name) {
    const prev = this.windows.get(this.window);
    if (prev) prev.endedAt = performance.now();
    this.window = name;
    this.win(name);
  }

  fire(conn) {
    if (!this.issuing) return;
    const req = this.requests[this.next++ % this.requests.length];
    const t0 = performance.now();
    this.inFlight++;
    conn.send(req.buf, (err, status, body) => {
      this.inFlight--;
      const w = this.win();
      const now = performance.now();
      if (err || status !== 200 || !body.includes(req.uid)) {
        w.errors++;
        this.total.errors++;
        if (this.errorSamples.length < 20) this.errorSamples.push({ at: Math.round(now), window: w.name, error: err?.message ?? `HTTP ${status}: ${body?.toString('utf8').slice(0, 200)}` });
      } else {
        w.completed++;
        this.total.completed++;
        w.hist.record(Math.max(1, Math.round((now - t0) * 1000)));
        this.lastAnswerAt = now;
      }
      this.fire(conn);
    });
  }

  start() {
    this.issuing = true;
    for (const c of this.conns) this.fire(c);
  }

  /** Stops issuing; resolves once every request sent has its answer (or failed). */
  async drain(limitMs = 15_000) {
    this.issuing = false;
    const deadline = performance.now() + limitMs;
    while (this.inFlight > 0 && performance.now() < deadline) await sleep(5);
    const w = this.windows.get(this.window);
    if (w) w.endedAt = performance.now();
    return this.inFlight;
  }
}

/** Fixed arrival rate over 8 connections, 1 s warm-up; latency from each request's intended send time. */
async function openLoop(target, requests, rate, seconds) {
  const conns = Array.from({ length: 8 }, () => new Conn(target));
  await Promise.all(conns.map((c) => c.open()));
  const idle = [...conns];
  const queue = [];
  const w = { completed: 0, errors: 0, hist: newHist() };
  const start = performance.now();
  const measureFrom = start + 1000;
  const end = measureFrom + seconds * 1000;
  let nextAt = start;
  let next = 0;
  let inFlight = 0;
  const pump = () => {
    const now = performance.now();
    while (nextAt <= now && nextAt < end) { queue.push(nextAt); nextAt += 1000 / rate; }
    while (queue.length > 0 && idle.length > 0) {
      const intended = queue.shift();
      const conn = idle.shift();
      const req = requests[next++ % requests.length];
      inFlight++;
      conn.send(req.buf, (err, status, body) => {
        inFlight--;
        if (intended >= measureFrom) {
          if (err || status !== 200 || !body.includes(req.uid)) w.errors++;
          else { w.completed++; w.hist.record(Math.max(1, Math.round((performance.now() - intended) * 1000))); }
        }
        idle.push(conn);
        pump();
      });
    }
  };
  const timer = setInterval(pump, 1);
  while (performance.now() < end || queue.length > 0) await sleep(20);
  clearInterval(timer);
  while (inFlight > 0) await sleep(5);
  for (const c of conns) c.close();
  return w;
}

function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

function median(values) {
  const v = [...values].sort((x, y) => x - y);
  return v.length === 0 ? NaN : v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den === 0 ? NaN : num / den;
}

// ---------------------------------------------------------------------------------------------
// Checks and report
// ---------------------------------------------------------------------------------------------
const checks = [];
function check(name, ok, detail) {
  checks.push({ name, ok: Boolean(ok), detail });
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

const began = performance.now();
const log = (msg) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f3 = (n) => (Number.isFinite(n) ? n.toFixed(3) : '-');
const round = (n, d) => (Number.isFinite(n) ? Number(n.toFixed(d)) : null);

function atomicWrite(file, content) {
  const tmp = join(file, '..', `.${file.split('/').pop()}.tmp-${process.pid}`);
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

// ---------------------------------------------------------------------------------------------
// Phase: soak with faults, then SIGTERM
// ---------------------------------------------------------------------------------------------
async function soakPhase(opts, certDir, ca, corpus) {
  const T = opts.seconds * 1000;
  const policies = tempDir('gpu-admission-soak-policies-');
  for (const f of readdirSync(join(ROOT, 'policies')).filter((n) => /\.ya?ml$/.test(n))) copyFileSync(join(ROOT, 'policies', f), join(policies, f));
  const inference = readFileSync(join(policies, 'inference.yaml'), 'utf8');
  if (!/terminationGracePeriodSeconds: 120\n/.test(inference) || !/mode: enforce\n/.test(inference)) throw new Error('policies/inference.yaml changed: the soak expects terminationGracePeriodSeconds: 120 and mode: enforce');

  const [port, healthPort] = [await freePort(), await freePort()];
  const server = startServer({ name: 'soak', policies, certDir, port, healthPort, logLevel: opts.logLevel });
  const target = { port, ca };
  await waitFor('the server to be ready', async () => !server.exit && (await get(healthPort, '/readyz')).status === 200, 30_000);
  const idle = procStatus(server.pid);
  log(`soak: server pid ${server.pid} ready on https://127.0.0.1:${port} (health ${healthPort}); idle RSS ${f1(idle.rssMiB)} MiB`);

  const requests = corpus.map((review) => prepared('/mutate?timeout=10s', port, review));
  // Probe: a GPU Pod in `inference` without terminationGracePeriodSeconds; its patch carries the policy's value.
  const probeReview = () => prepared('/mutate?timeout=10s', port, podReview('inference', gpuSpec()));
  const probeConn = new Conn(target);
  await probeConn.open();
  const probes = [];
  let probeErrors = 0;
  const probeOnce = async () => {
    const p = probeReview();
    try {
      const { status, body } = await sendOnce(probeConn, p.buf);
      if (status !== 200 || !body.includes(p.uid)) throw new Error(`HTTP ${status}`);
      const { patch } = decodeAnswer(body);
      const grace = patch.find((op) => op.path === '/spec/terminationGracePeriodSeconds')?.value;
      probes.push({ t: performance.now(), grace });
      return grace;
    } catch {
      probeErrors++;
      return undefined;
    }
  };
  check('the probe review gets terminationGracePeriodSeconds 120 from the shipped policy', (await probeOnce()) === 120);

  const conns = Array.from({ length: opts.connections }, () => new Conn(target));
  await Promise.all(conns.map((c) => c.open()));
  const load = new Load(target, requests, conns);

  // Background workers: RSS every second, probe every 100 ms, a fresh TLS connection every 200 ms.
  let loadStart = performance.now();
  const rss = [];
  const heap = [];
  const rssTimer = setInterval(() => {
    const s = procStatus(server.pid);
    const t = (performance.now() - loadStart) / 1000;
    rss.push({ t, ...s, completed: load.total.completed, errors: load.total.errors });
    // V8 heap from the server's own /metrics (prom-client): its post-GC floor tells a leak from heap sizing.
    {
      get(healthPort, '/metrics', 900).then(({ body }) => {
        const v = (name) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(body)?.[1] ?? NaN) / 1048576;
        heap.push({ t, usedMiB: v('gpu_admission_nodejs_heap_size_used_bytes'), totalMiB: v('gpu_admission_nodejs_heap_size_total_bytes'), externalMiB: v('gpu_admission_nodejs_external_memory_bytes') });
      }, () => undefined);
    }
  }, 1000);
  let stopWorkers = false;
  const probeLoop = (async () => { while (!stopWorkers) { await probeOnce(); await sleep(100); } })();
  const handshakes = [];
  let churnErrors = 0;
  const churnLoop = (async () => {
    while (!stopWorkers) {
      const r = probeReview();
      try {
        const { serial, ok } = await freshReview(target, r);
        handshakes.push({ t: performance.now(), serial });
        if (!ok) churnErrors++;
      } catch (err) {
        churnErrors++;
        handshakes.push({ t: performance.now(), error: err.message });
      }
      await sleep(200);
    }
  })();

  loadStart = performance.now();
  load.start();
  log(`soak: closed loop on ${opts.connections} connections over ${requests.length} review bodies for ${opts.seconds} s`);
  const at = (fraction) => sleep(Math.max(0, loadStart + T * fraction - performance.now()));
  const results = {};

  await at(0.05);
  load.setWindow('steady');
  const warm = procStatus(server.pid);

  // --- invalid policy ---------------------------------------------------------------------------
  await at(0.2);
  load.setWindow('invalid policy');
  const gen0 = await metric(healthPort, 'gpu_admission_policy_generation');
  const tInvalid = performance.now();
  atomicWrite(join(policies, 'inference.yaml'), inference.replace('mode: enforce\n', 'mode: maybe\n'));
  log('soak: inference.yaml replaced by an invalid one (mode: maybe)');
  try {
    const rejected = await waitFor('a policies-rejected log line', () => server.events.find((e) => e.t > tInvalid && e.event === 'policies-rejected'), 10_000);
    const failed = await waitFor('last_reload_failed 1', async () => (await metric(healthPort, 'gpu_admission_policy_last_reload_failed')) === 1, 10_000);
    results.invalid = { detectedMs: Math.round(rejected.t - tInvalid), problems: rejected.problems };
    check('an invalid policy is rejected: log line "policies-rejected" naming the problem', failed && String(rejected.problems).includes('mode'), `after ${results.invalid.detectedMs} ms: ${JSON.stringify(rejected.problems).slice(0, 160)}`);
    check('... and /metrics gpu_admission_policy_last_reload_failed is 1', failed);
    const ready = await get(healthPort, '/readyz');
    check('... /readyz stays 200 and reports the error', ready.status === 200 && JSON.parse(ready.body).policies?.lastError?.includes('mode'), `status ${ready.status}`);
  } catch (err) {
    check('an invalid policy is rejected and visible in logs and metrics', false, err.message);
  }
  await at(0.4);
  const graceWhileInvalid = probes.filter((p) => p.t > tInvalid).map((p) => p.grace);
  check('the last good policies keep serving while the file is invalid (probe answers unchanged)', graceWhileInvalid.length > 0 && graceWhileInvalid.every((g) => g === 120), `${graceWhileInvalid.length} probes, values ${[...new Set(graceWhileInvalid)].join(',')}`);

  // --- valid new policy -------------------------------------------------------------------------
  load.setWindow('valid policy');
  const tValid = performance.now();
  atomicWrite(join(policies, 'inference.yaml'), inference.replace('terminationGracePeriodSeconds: 120\n', 'terminationGracePeriodSeconds: 180\n'));
  log('soak: inference.yaml replaced by a valid new one (terminationGracePeriodSeconds: 180)');
  try {
    const seen = await waitFor('the probe to see 180', () => probes.find((p) => p.t > tValid && p.grace === 180), 15_000, 20);
    results.valid = { pickedUpMs: Math.round(seen.t - tValid) };
    check('a valid policy change is picked up within seconds (the probe\'s patch says 180)', results.valid.pickedUpMs < 5000, `after ${results.valid.pickedUpMs} ms`);
    const ok = await waitFor('last_reload_failed 0', async () => (await metric(healthPort, 'gpu_admission_policy_last_reload_failed')) === 0, 5000);
    const gen1 = await metric(healthPort, 'gpu_admission_policy_generation');
    check('... /metrics last_reload_failed back to 0, generation +1', ok && gen1 === gen0 + 1, `generation ${gen0} -> ${gen1}`);
    await at(0.6);
    const after = probes.filter((p) => p.t > seen.t).map((p) => p.grace);
    check('... and it stays: every later probe says 180', after.length > 0 && after.every((g) => g === 180), `${after.length} probes`);
  } catch (err) {
    check('a valid policy change is picked up within seconds', false, err.message);
  }

  // --- certificate rotation ---------------------------------------------------------------------
  await at(0.6);
  load.setWindow('certificate rotation');
  const oldSerial = new X509Certificate(readFileSync(join(certDir, 'tls.crt'))).serialNumber.toUpperCase();
  const next = tempDir('gpu-admission-soak-certs-next-');
  copyFileSync(join(certDir, 'ca.crt'), join(next, 'ca.crt'));
  copyFileSync(join(certDir, 'ca.key'), join(next, 'ca.key'));
  await run([MAIN, 'certs', '--out', next, '--reuse-ca'], 'certs --reuse-ca');
  const newSerial = new X509Certificate(readFileSync(join(next, 'tls.crt'))).serialNumber.toUpperCase();
  const tRotate = performance.now();
  atomicWrite(join(certDir, 'tls.crt'), readFileSync(join(next, 'tls.crt')));
  atomicWrite(join(certDir, 'tls.key'), readFileSync(join(next, 'tls.key')));
  log(`soak: certificate rotated (serial ${oldSerial.slice(0, 12)}… -> ${newSerial.slice(0, 12)}…)`);
  try {
    const seen = await waitFor('a new connection with the new serial', () => handshakes.find((h) => h.t > tRotate && h.serial?.toUpperCase() === newSerial), 20_000, 20);
    results.rotation = { pickedUpMs: Math.round(seen.t - tRotate), oldSerial, newSerial };
    check('new connections see the new certificate serial', true, `after ${results.rotation.pickedUpMs} ms`);
    await sleep(1000);
    const later = handshakes.filter((h) => h.t > seen.t);
    check('... every later handshake presents it', later.length > 0 && later.every((h) => h.serial?.toUpperCase() === newSerial), `${later.length} handshakes`);
  } catch (err) {
    check('new connections see the new certificate serial', false, err.message);
  }
  await at(1);

  // --- SIGTERM ----------------------------------------------------------------------------------
  load.setWindow('steady (after faults)');
  stopWorkers = true;
  await Promise.all([probeLoop, churnLoop]);
  const end = procStatus(server.pid);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const answeredBeforeTerm = load.total.completed;
  load.setWindow('shutdown delay');
  const sig = { t0: performance.now() };
  server.child.kill('SIGTERM');
  log(`soak: SIGTERM (--shutdown-delay ${SHUTDOWN_DELAY}); load continues until 1 s after /readyz turns 503`);
  let stopPolling = false;
  const readyPoll = (async () => {
    while (!stopPolling && sig.unready === undefined) {
      try {
        const r = await get(healthPort, '/readyz', 500);
        if (r.status === 503) sig.unready = performance.now();
      } catch { if (sig.unready === undefined) sig.unreadyError = performance.now(); }
      await sleep(10);
    }
  })();
  const connectPoll = (async () => {
    while (!stopPolling && sig.refused === undefined) {
      const conn = new Conn(target);
      try {
        await conn.open();
        sig.lastAccepted = performance.now();
      } catch (err) {
        sig.refused = performance.now();
        sig.refusedError = err.code ?? err.message;
      } finally {
        conn.close();
      }
      await sleep(20);
    }
  })();
  try {
    await waitFor('/readyz 503', () => sig.unready, 5000, 5);
    const atUnready = load.total.completed;
    await sleep(1000);
    const answeredAfterUnready = load.total.completed - atUnready;
    const left = await load.drain(SHUTDOWN_TIMEOUT * 1000);
    sig.drained = performance.now();
    check('in-flight reviews complete (none left unanswered after the load stops)', left === 0, `${left} in flight`);
    check('reviews keep being answered after readiness went false', answeredAfterUnready > 0, `${answeredAfterUnready} answered during the delay`);
  } catch (err) {
    check('/readyz turns 503 after SIGTERM', false, err.message);
    await load.drain(1000);
  }
  const exit = await Promise.race([server.exited, sleep((SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT + 5) * 1000).then(() => undefined)]);
  stopPolling = true;
  await Promise.all([readyPoll, connectPoll]);
  for (const c of [...conns, probeConn]) c.close();
  clearInterval(rssTimer);
  const ms = (t) => (t === undefined ? NaN : Math.round(t - sig.t0));
  results.shutdown = {
    unreadyMs: ms(sig.unready), lastAcceptedMs: ms(sig.lastAccepted), refusedMs: ms(sig.refused), refusedError: sig.refusedError,
    drainedMs: ms(sig.drained), exitMs: exit ? ms(exit.t) : null, exitCode: exit?.code ?? null, exitSignal: exit?.signal ?? null,
  };
  check('/readyz turns 503 first', sig.unready !== undefined && (sig.refused === undefined || sig.unready < sig.refused), `503 after ${results.shutdown.unreadyMs} ms`);
  check(`new connections are refused only after readiness went false, after the ${SHUTDOWN_DELAY} s delay`,
    sig.refused !== undefined && sig.refused > sig.unready && sig.refused - sig.t0 >= SHUTDOWN_DELAY * 1000 - 50,
    `last accepted ${results.shutdown.lastAcceptedMs} ms, refused (${sig.refusedError}) at ${results.shutdown.refusedMs} ms`);
  check(`the process exits 0 within the grace period (${SHUTDOWN_DELAY} s + ${SHUTDOWN_TIMEOUT} s)`,
    exit !== undefined && exit.code === 0 && exit.t - sig.t0 < (SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT) * 1000, `exit ${exit?.code ?? exit?.signal ?? 'none'} after ${results.shutdown.exitMs} ms`);
  if (server.stderr.trim()) log(`soak: server stderr: ${server.stderr.trim().slice(0, 400)}`);

  // --- accounting -------------------------------------------------------------------------------
  const total = load.total;
  const allHist = newHist();
  for (const w of load.windows.values()) if (w.name !== 'warm-up') allHist.add(w.hist);
  const measuredAnswers = [...load.windows.values()].filter((w) => w.name !== 'warm-up' && w.name !== 'shutdown delay').reduce((n, w) => n + w.completed, 0);
  const measuredSeconds = loadSeconds - 0.05 * opts.seconds;
  const answeredByServer = total.completed + probes.length + handshakes.filter((h) => h.serial).length;
  check('no review failed during the soak (every answer HTTP 200 with its uid)', total.errors === 0 && probeErrors === 0, `${total.errors} load errors, ${probeErrors} probe errors${load.errorSamples.length ? `: ${JSON.stringify(load.errorSamples.slice(0, 3))}` : ''}`);
  check('no handshake or fresh-connection review failed', churnErrors === 0, `${handshakes.length} fresh connections, ${churnErrors} failed`);
  if (opts.logLevel === 'info' || opts.logLevel === 'debug' || opts.logLevel === 'trace') {
    check('the server logged one review line per answered review (nothing lost)', server.reviewLines >= answeredByServer && server.reviewLines <= answeredByServer + opts.connections + 2,
      `${server.reviewLines} log lines, ${answeredByServer} answers received`);
  }
  const inSecondHalf = (p) => p.t >= opts.seconds / 2 && p.t <= opts.seconds;
  // Post-GC floor of the heap: the lowest heapUsed of each 10 s window.
  const floors = [];
  for (let from = 0; from < opts.seconds; from += 10) {
    const w = heap.filter((h) => h.t >= from && h.t < from + 10 && Number.isFinite(h.usedMiB));
    if (w.length > 0) floors.push([from + 5, Math.min(...w.map((h) => h.usedMiB))]);
  }
  const memory = {
    idleMiB: round(idle.rssMiB, 1), warmMiB: round(warm.rssMiB, 1), endMiB: round(end.rssMiB, 1), peakMiB: round(end.hwmMiB, 1),
    growthMiB: round(end.rssMiB - warm.rssMiB, 1), rssSecondHalfSlopeMiBPerMin: round(slope(rss.filter(inSecondHalf).map((p) => [p.t, p.rssMiB])) * 60, 2),
    heapFloorsMiB: floors.map(([, v]) => round(v, 1)),
    heapFloorMedianFirstHalfMiB: round(median(floors.filter(([t]) => t > 10 && t < opts.seconds / 2).map(([, v]) => v)), 1),
    heapFloorMedianSecondHalfMiB: round(median(floors.filter(([t]) => t >= opts.seconds / 2).map(([, v]) => v)), 1),
    heapTotalEndMiB: round(heap.at(-1)?.totalMiB, 1), externalEndMiB: round(heap.at(-1)?.externalMiB, 1), samples: rss.length,
    rssEvery5s: rss.filter((_, i) => i % 5 === 4).map((p) => round(p.rssMiB, 1)),
  };
  log(`soak: RSS every 5 s ${JSON.stringify(memory.rssEvery5s)} MiB; heap floor per 10 s ${JSON.stringify(memory.heapFloorsMiB)} MiB`);
  // The heap floor is noisy (a 10 s window does not always hold a full GC), so the check compares
  // medians and only catches gross leaks (tens of MiB per minute); a long run (--seconds 240) shows
  // the plateau. RSS keeps growing for about a minute while V8 sizes its heap for the load.
  const judged = opts.seconds >= 40 && Number.isFinite(memory.heapFloorMedianFirstHalfMiB) && Number.isFinite(memory.heapFloorMedianSecondHalfMiB);
  check(`no leak: the post-GC heap floor's median does not rise by 15 MiB from the first half to the second${judged ? '' : ' (reported only from 40 s of load)'}`,
    !judged || memory.heapFloorMedianSecondHalfMiB - memory.heapFloorMedianFirstHalfMiB < 15,
    `heap floor medians ${memory.heapFloorMedianFirstHalfMiB} -> ${memory.heapFloorMedianSecondHalfMiB} MiB; ` +
    `RSS idle ${memory.idleMiB} MiB, at 5 % ${memory.warmMiB} MiB, end ${memory.endMiB} MiB (growth ${memory.growthMiB} MiB, second-half slope ${memory.rssSecondHalfSlopeMiBPerMin} MiB/min), peak ${memory.peakMiB} MiB`);
  return {
    seconds: round(loadSeconds, 1), connections: opts.connections, bodies: requests.length,
    reviews: total.completed, measuredReviews: measuredAnswers, errors: total.errors, reviewsPerSecond: round(measuredAnswers / measuredSeconds, 1),
    p50Ms: round(pct(allHist, 50), 3), p99Ms: round(pct(allHist, 99), 3), maxMs: round(allHist.max / 1000, 2),
    windows: [...load.windows.values()].map((w) => ({
      name: w.name, reviews: w.completed, errors: w.errors, seconds: round(((w.endedAt ?? performance.now()) - w.startedAt) / 1000, 1),
      p50Ms: round(pct(w.hist, 50), 3), p99Ms: round(pct(w.hist, 99), 3), maxMs: round(w.hist.max / 1000, 2),
    })),
    memory, faults: results, answeredBeforeTerm, probes: probes.length, freshConnections: handshakes.length, reviewLogLines: server.reviewLines,
  };
}

// ---------------------------------------------------------------------------------------------
// Phase: stuck cluster API
// ---------------------------------------------------------------------------------------------
async function stallPhase(opts, certDir, ca, corpus) {
  const fake = await startFakeApiServer({ mode: opts.stallMode });
  closers.add(() => void fake.close());
  const dir = tempDir('gpu-admission-stall-');
  writeFileSync(join(dir, 'kubeconfig'), fake.kubeconfig());
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  for (const f of readdirSync(join(ROOT, 'policies')).filter((n) => /\.ya?ml$/.test(n))) copyFileSync(join(ROOT, 'policies', f), join(policies, f));
  const [port, healthPort] = [await freePort(), await freePort()];
  const server = startServer({ name: 'stall', policies, certDir, port, healthPort, logLevel: opts.logLevel, kubeconfig: join(dir, 'kubeconfig') });
  const target = { port, ca };
  const result = { fakeApiServer: fake.url };
  try {
    await waitFor('the server to be ready', async () => !server.exit && (await get(healthPort, '/readyz')).status === 200, 30_000);
    await waitFor('three stalled watches', () => fake.requests.lists >= 3 && fake.requests.watches >= 3, 20_000);
    await sleep(1500); // the informer_synced gauge is refreshed every second
    const ready = JSON.parse((await get(healthPort, '/readyz')).body);
    const gauge = await Promise.all(['namespaces', 'nodes', 'priorityclasses'].map((r) => metric(healthPort, `gpu_admission_informer_synced{resource="${r}"}`)));
    result.reportedSync = { readyzSynced: ready.cluster?.synced ?? [], informerSyncedGauge: gauge, nodesPerPool: ready.cluster?.nodesPerPool ?? null };
    log(`stall: ${fake.requests.lists} LISTs answered by ${fake.url}, ${fake.requests.watches} WATCHes hanging (${opts.stallMode}); the server reports synced ${JSON.stringify(result.reportedSync.readyzSynced)}, informer_synced ${JSON.stringify(gauge)}`);
    check('stall: the initial LISTs are answered, then every WATCH hangs', fake.requests.lists === 3 && fake.requests.watches >= 3 && fake.stalledNow() >= 3, `${fake.requests.lists} lists, ${fake.requests.watches} watches, ${fake.stalledNow()} requests hanging`);

    // The cache is what answers: `ml-serving` is governed by `training` only through its label.
    const conn = new Conn(target);
    await conn.open();
    const labelled = prepared('/validate', port, podReview('ml-serving', { ...gpuSpec(), nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }] }));
    const a = await sendOnce(conn, labelled.buf);
    const policy = decodeAnswer(a.body).r.auditAnnotations?.policy;
    check('stall: a namespace known only from the cluster is governed by its label-selected policy (cache in use)', a.status === 200 && policy === 'training', `ml-serving -> ${policy}`);

    // Open loop at a fixed rate (latency from the intended send time): how fast an answer is while
    // the API is stuck, without the queueing of a saturated closed loop.
    const w = await openLoop(target, corpus.map((review) => prepared('/mutate?timeout=10s', port, review)), opts.stallRate, opts.stallSeconds);
    const watchesNow = fake.stalledNow();
    Object.assign(result, {
      seconds: opts.stallSeconds, rate: opts.stallRate, reviews: w.completed, errors: w.errors, reviewsPerSecond: round(w.completed / opts.stallSeconds, 1),
      p50Ms: round(pct(w.hist, 50), 3), p99Ms: round(pct(w.hist, 99), 3), maxMs: round(w.hist.max / 1000, 2),
      apiRequests: { lists: fake.requests.lists, watches: fake.requests.watches, stalledLists: fake.requests.stalledLists, stalledGets: fake.requests.stalledGets, notFound: fake.requests.notFound },
    });
    check('stall: reviews keep being answered from the cache while the watches hang (0 errors)', w.errors === 0 && w.completed > 0 && watchesNow >= 3,
      `${w.completed} reviews in ${opts.stallSeconds} s, p50 ${f3(result.p50Ms)} ms, p99 ${f3(result.p99Ms)} ms, ${watchesNow} API requests hanging`);
    check(`stall: p99 stays fast (< 50 ms at ${opts.stallRate} reviews/s) with the API stuck`, result.p99Ms < 50, `p50 ${f3(result.p50Ms)} ms, p99 ${f3(result.p99Ms)} ms, max ${f3(result.maxMs)} ms`);

    // A namespace the cache never saw: one fresh read, bounded at 1 s, then judged by its name.
    const unseen = prepared('/validate', port, podReview('never-listed', gpuSpec()));
    const t0 = performance.now();
    const u = await sendOnce(conn, unseen.buf);
    const unseenMs = performance.now() - t0;
    const ua = decodeAnswer(u.body).r;
    result.unseenNamespace = { ms: round(unseenMs, 1), policy: ua.auditAnnotations?.policy, allowed: ua.allowed };
    check('stall: a namespace the cache never saw is answered after the bounded 1 s read, by the policy its name selects', u.status === 200 && unseenMs < 2500 && ua.auditAnnotations?.policy === 'strict-default',
      `${f1(unseenMs)} ms, policy ${ua.auditAnnotations?.policy}, ${fake.requests.stalledGets} GET hanging`);
    conn.close();
  } catch (err) {
    check('stall: phase ran', false, err.message);
  }
  const t0 = performance.now();
  server.child.kill('SIGTERM');
  const exit = await Promise.race([server.exited, sleep((SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT + 5) * 1000).then(() => undefined)]);
  result.exitMs = exit ? Math.round(exit.t - t0) : null;
  check('stall: SIGTERM stops the process although its watches hang', exit !== undefined && exit.code === 0 && exit.t - t0 < (SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT) * 1000,
    `exit ${exit?.code ?? exit?.signal ?? 'none (killed)'} after ${result.exitMs ?? '-'} ms`);
  if (!exit) server.child.kill('SIGKILL');
  const watchErrors = server.events.filter((e) => e.event === 'cluster-watch-error').length;
  result.watchErrorLogLines = watchErrors;
  await fake.close();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Phase: slow clients
// ---------------------------------------------------------------------------------------------
const SLOW_REQUEST_TIMEOUT = 5;
const MEMORY_LIMIT_MIB = 256;

/**
 * Ordinary reviews on one established connection, one every 20 ms for `seconds`, while a phase's
 * attack runs: their latency and whether each was answered (status 200 naming its uid).
 */
async function ordinaryReviews(conn, reviews, seconds) {
  const hist = createHistogram();
  let answered = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const r = reviews[i % reviews.length];
    const t0 = performance.now();
    try {
      const { status, body } = await sendOnce(conn, r.buf);
      if (status === 200 && body.includes(r.uid)) answered++;
      else errors++;
    } catch {
      errors++;
      await conn.open().catch(() => undefined);
    }
    hist.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    await sleep(20);
  }
  return { hist, answered, errors };
}

async function slowPhase(opts, certDir, ca, corpus) {
  const dir = tempDir('gpu-admission-slow-');
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  for (const f of readdirSync(join(ROOT, 'policies')).filter((n) => /\.ya?ml$/.test(n))) copyFileSync(join(ROOT, 'policies', f), join(policies, f));
  const [port, healthPort] = [await freePort(), await freePort()];
  const server = startServer({ name: 'slow', policies, certDir, port, healthPort, logLevel: opts.logLevel, extraArgs: ['--request-timeout', String(SLOW_REQUEST_TIMEOUT)] });
  const target = { port, ca };
  const result = { clients: opts.slowClients, seconds: opts.slowSeconds, requestTimeout: SLOW_REQUEST_TIMEOUT };
  try {
    await waitFor('the server to be ready', async () => !server.exit && (await get(healthPort, '/readyz')).status === 200, 30_000);
    const idleMiB = procStatus(server.pid).rssMiB;
    // The API server's connection: open before the flood, kept alive throughout.
    const conn = new Conn(target);
    await conn.open();
    const reviews = corpus.map((review) => prepared('/validate', port, review));
    const outcomes = { '408': 0, '503': 0, dropped: 0, other: 0 };
    let attempts = 0;
    let overdue = 0;
    const cutMs = [];
    let stopping = false;
    const live = new Set();
    const announce = 3 * 1024 * 1024 - 4096;
    const slowOne = () => new Promise((resolve) => {
      let started = Infinity;
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca });
      live.add(s);
      attempts++;
      let text = '';
      let timer;
      s.on('secureConnect', () => {
        started = performance.now();
        s.write(`POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${announce}\r\n\r\n{`);
        timer = setInterval(() => s.writable && s.write(' '), 1000);
      });
      s.on('data', (d) => { text += d; });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        live.delete(s);
        const code = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
        outcomes[code === undefined ? 'dropped' : code in outcomes ? code : 'other']++;
        if (code === '408') cutMs.push(Math.round(performance.now() - started));
        if (!stopping && performance.now() - started > (SLOW_REQUEST_TIMEOUT + 3) * 1000) overdue++;
        resolve();
      });
    });
    const clients = Array.from({ length: opts.slowClients }, async (_, i) => {
      await sleep(i % 200); // not all in one tick
      while (!stopping) {
        await slowOne();
        await sleep(3000 + Math.random() * 2000); // cut off: retry after 3-5 s
      }
    });
    let peakMiB = idleMiB;
    const sampler = setInterval(() => { peakMiB = Math.max(peakMiB, procStatus(server.pid).rssMiB); }, 250);
    const { hist, answered, errors } = await ordinaryReviews(conn, reviews, opts.slowSeconds);
    stopping = true;
    clearInterval(sampler);
    peakMiB = Math.max(peakMiB, procStatus(server.pid).rssMiB);
    for (const s of live) s.destroy();
    await Promise.all(clients);
    conn.close();
    Object.assign(result, {
      attempts, outcomes, overdue, reviews: answered, errors, p50Ms: round(pct(hist, 50), 3), p99Ms: round(pct(hist, 99), 3), maxMs: round(hist.max / 1000, 2),
      memory: { idleMiB: round(idleMiB, 1), peakMiB: round(peakMiB, 1) },
    });
    log(`slow: ${opts.slowClients} slow clients, ${attempts} attempts: ${JSON.stringify(outcomes)}; reviews ${answered}, p50 ${f3(result.p50Ms)} ms, p99 ${f3(result.p99Ms)} ms; RSS idle ${f1(idleMiB)} / peak ${f1(peakMiB)} MiB`);
    check(`slow: server RSS stays under ${MEMORY_LIMIT_MIB} MiB with ${opts.slowClients} slow clients`, peakMiB < MEMORY_LIMIT_MIB, `peak ${f1(peakMiB)} MiB (idle ${f1(idleMiB)})`);
    check('slow: well-formed reviews keep being answered on an established connection (0 errors)', errors === 0 && answered > 0,
      `${answered} reviews, p50 ${f3(result.p50Ms)} ms, p99 ${f3(result.p99Ms)} ms, max ${f3(result.maxMs)} ms`);
    check(`slow: every slow client is cut off (408), refused (503) or dropped within --request-timeout + 3 s`, overdue === 0 && outcomes.other === 0 && attempts > opts.slowClients,
      `${attempts} attempts, ${JSON.stringify(outcomes)}, ${overdue} overdue`);
  } catch (err) {
    check('slow: phase ran', false, err.message);
  }
  server.child.kill('SIGTERM');
  const exit = await Promise.race([server.exited, sleep((SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT + 5) * 1000).then(() => undefined)]);
  if (!exit) server.child.kill('SIGKILL');
  return result;
}

// ---------------------------------------------------------------------------------------------
// Worst-case senders: 4 clients send the costliest review inside the shape bounds back to back,
// while the API server's connection keeps sending ordinary reviews; their p99 must stay < 100 ms.
// ---------------------------------------------------------------------------------------------
const WORST_SENDERS = 4;
const WORST_P99_MS = 100;

function worstReview(base) {
  const review = structuredClone(base);
  const spec = review.request.object.spec;
  const many = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  spec.nodeSelector = { ...(spec.nodeSelector ?? {}), ...Object.fromEntries(many(255, (i) => [`k${i}`, `v${i}`])) };
  spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: many(100, () => ({ matchExpressions: many(10, (j) => ({ key: `k${j}`, operator: 'In', values: [`v${j}`, `w${j}`] })) })) } } };
  review.request.uid = 'worst-case';
  return review;
}

async function worstPhase(opts, certDir, ca, corpus) {
  const dir = tempDir('gpu-admission-worst-');
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  for (const f of readdirSync(join(ROOT, 'policies')).filter((n) => /\.ya?ml$/.test(n))) copyFileSync(join(ROOT, 'policies', f), join(policies, f));
  const [port, healthPort] = [await freePort(), await freePort()];
  const server = startServer({ name: 'worst', policies, certDir, port, healthPort, logLevel: opts.logLevel });
  const target = { port, ca };
  const result = { senders: WORST_SENDERS, seconds: opts.worstSeconds };
  try {
    await waitFor('the server to be ready', async () => !server.exit && (await get(healthPort, '/readyz')).status === 200, 30_000);
    const worst = prepared('/validate', port, worstReview(corpus.find((r) => r.request?.object?.spec) ?? corpus[0]));
    const reviews = corpus.map((review) => prepared('/validate', port, review));
    const conn = new Conn(target);
    await conn.open();
    let stopping = false;
    const worstHist = createHistogram();
    let worstErrors = 0;
    const senders = Array.from({ length: WORST_SENDERS }, async () => {
      const c = new Conn(target);
      await c.open();
      while (!stopping) {
        const t0 = performance.now();
        try {
          const { status } = await sendOnce(c, worst.buf);
          if (status !== 200) worstErrors++;
        } catch {
          worstErrors++;
          await c.open().catch(() => undefined);
        }
        worstHist.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      }
      c.close();
    });
    const { hist, answered, errors } = await ordinaryReviews(conn, reviews, opts.worstSeconds);
    stopping = true;
    await Promise.all(senders);
    conn.close();
    Object.assign(result, {
      worstReviews: worstHist.count, worstErrors, worstP50Ms: round(pct(worstHist, 50), 3), worstP99Ms: round(pct(worstHist, 99), 3),
      reviews: answered, errors, p50Ms: round(pct(hist, 50), 3), p99Ms: round(pct(hist, 99), 3), maxMs: round(hist.max / 1000, 2),
    });
    log(`worst: ${WORST_SENDERS} senders of the worst review (${worstHist.count} answered, p50 ${f3(result.worstP50Ms)} ms, p99 ${f3(result.worstP99Ms)} ms); ordinary reviews ${answered}, p50 ${f3(result.p50Ms)} ms, p99 ${f3(result.p99Ms)} ms`);
    check(`worst: ordinary reviews keep p99 < ${WORST_P99_MS} ms while ${WORST_SENDERS} clients send worst-case reviews`, errors === 0 && answered > 0 && result.p99Ms < WORST_P99_MS,
      `${answered} reviews, p99 ${f3(result.p99Ms)} ms, max ${f3(result.maxMs)} ms, ${errors} errors`);
    check('worst: every worst-case review is answered 200', worstErrors === 0 && worstHist.count > 0, `${worstHist.count} answered, ${worstErrors} errors`);
  } catch (err) {
    check('worst: phase ran', false, err.message);
  }
  server.child.kill('SIGTERM');
  const exit = await Promise.race([server.exited, sleep((SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT + 5) * 1000).then(() => undefined)]);
  if (!exit) server.child.kill('SIGKILL');
  return result;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
async function main() {
  const opts = options();
  keepTemp = opts.keep;
  const budgetMs = ((opts.phases.has('soak') ? opts.seconds + SHUTDOWN_DELAY + SHUTDOWN_TIMEOUT + 60 : 0) + (opts.phases.has('stall') ? opts.stallSeconds + 60 : 0) + (opts.phases.has('slow') ? opts.slowSeconds + 60 : 0) + (opts.phases.has('worst') ? opts.worstSeconds + 60 : 0) + 30) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`soak: still running after ${Math.round(budgetMs / 1000)} s; giving up`);
    cleanupSync();
    process.exit(3);
  }, budgetMs);
  watchdog.unref();
  for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => { console.error(`soak: ${s}, stopping`); cleanupSync(); process.exit(130); });
  process.once('exit', cleanupSync);

  const certDir = tempDir('gpu-admission-soak-certs-');
  await run([MAIN, 'certs', '--out', certDir], 'certs');
  const ca = readFileSync(join(certDir, 'ca.crt'));
  const { entries } = buildCorpus();
  const corpus = entries.map((e) => e.review);
  log(`corpus: ${corpus.length} Pod reviews (the bench corpus); node ${process.version}; ${opts.connections} connections`);

  const summary = { soak: 'gpu-admission', node: process.version, options: { ...opts, phases: [...opts.phases] } };
  if (opts.phases.has('soak')) summary.load = await soakPhase(opts, certDir, ca, corpus);
  if (opts.phases.has('stall')) {
    const stallCerts = tempDir('gpu-admission-stall-certs-');
    await run([MAIN, 'certs', '--out', stallCerts], 'certs');
    summary.stall = await stallPhase(opts, stallCerts, readFileSync(join(stallCerts, 'ca.crt')), corpus);
  }
  if (opts.phases.has('worst')) {
    const worstCerts = tempDir('gpu-admission-worst-certs-');
    await run([MAIN, 'certs', '--out', worstCerts], 'certs');
    summary.worst = await worstPhase(opts, worstCerts, readFileSync(join(worstCerts, 'ca.crt')), corpus);
  }
  if (opts.phases.has('slow')) {
    const slowCerts = tempDir('gpu-admission-slow-certs-');
    await run([MAIN, 'certs', '--out', slowCerts], 'certs');
    summary.slow = await slowPhase(opts, slowCerts, readFileSync(join(slowCerts, 'ca.crt')), corpus);
  }

  console.log('');
  if (summary.load) {
    const l = summary.load;
    console.log(`soak: ${l.connections} keep-alive connections, closed loop, ${l.seconds} s, ${l.bodies} bodies; server RSS idle ${f1(l.memory.idleMiB)} / warm ${f1(l.memory.warmMiB)} / end ${f1(l.memory.endMiB)} MiB (peak ${f1(l.memory.peakMiB)})`);
    console.log(`  ${'window'.padEnd(24)}${'seconds'.padStart(8)}${'reviews'.padStart(10)}${'reviews/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'errors'.padStart(8)}`);
    for (const w of l.windows) {
      console.log(`  ${w.name.padEnd(24)}${f1(w.seconds).padStart(8)}${String(w.reviews).padStart(10)}${f1(w.reviews / w.seconds).padStart(11)}${f3(w.p50Ms).padStart(9)}${f3(w.p99Ms).padStart(9)}${f3(w.maxMs).padStart(9)}${String(w.errors).padStart(8)}`);
    }
    console.log(`  ${'after warm-up'.padEnd(24)}${f1(l.seconds - 0.05 * opts.seconds).padStart(8)}${String(l.measuredReviews).padStart(10)}${f1(l.reviewsPerSecond).padStart(11)}${f3(l.p50Ms).padStart(9)}${f3(l.p99Ms).padStart(9)}${f3(l.maxMs).padStart(9)}${String(l.errors).padStart(8)}`);
    const s = l.faults.shutdown ?? {};
    console.log(`  faults: invalid policy seen in ${l.faults.invalid?.detectedMs ?? '-'} ms; valid policy picked up in ${l.faults.valid?.pickedUpMs ?? '-'} ms; new certificate served after ${l.faults.rotation?.pickedUpMs ?? '-'} ms`);
    console.log(`  SIGTERM: /readyz 503 at ${s.unreadyMs} ms, last new connection accepted at ${s.lastAcceptedMs} ms, refused from ${s.refusedMs} ms, load drained at ${s.drainedMs} ms, exit ${s.exitCode} at ${s.exitMs} ms`);
  }
  if (summary.stall) {
    const st = summary.stall;
    console.log(`stall (${opts.stallMode}, open loop ${opts.stallRate}/s): ${st.reviews ?? '-'} reviews in ${st.seconds ?? '-'} s (${f1(st.reviewsPerSecond)}/s), p50 ${f3(st.p50Ms)} ms, p99 ${f3(st.p99Ms)} ms, errors ${st.errors ?? '-'}; unseen namespace ${f1(st.unseenNamespace?.ms)} ms; exit after ${st.exitMs ?? '-'} ms`);
  }
  if (summary.slow) {
    const sl = summary.slow;
    console.log(`slow (${sl.clients} clients, --request-timeout ${sl.requestTimeout}): ${sl.attempts ?? '-'} attempts ${JSON.stringify(sl.outcomes ?? {})}; ${sl.reviews ?? '-'} reviews, p50 ${f3(sl.p50Ms)} ms, p99 ${f3(sl.p99Ms)} ms, errors ${sl.errors ?? '-'}; RSS peak ${f1(sl.memory?.peakMiB)} MiB`);
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(`checks: ${checks.length - failed.length} ok, ${failed.length} failed${failed.length ? `: ${failed.map((c) => c.name).join('; ')}` : ''}`);
  summary.checks = checks;
  summary.ok = failed.length === 0;
  summary.seconds = round((performance.now() - began) / 1000, 1);
  console.log(JSON.stringify(summary));
  clearTimeout(watchdog);
  cleanupSync();
  process.exitCode = summary.ok ? 0 : 1;
}

await main().catch((err) => {
  console.error(`soak: ${err?.stack ?? err}`);
  cleanupSync();
  process.exit(2);
});
