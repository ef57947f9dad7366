#!/usr/bin/env node
// Loopback benchmark of the admission webhook against a bare fastify HTTPS baseline.
//
//   npm run bench                       # full run (~8 min): every phase, every budget
//   node test/bench/bench.mjs --quick   # short run (~2 min)
//   node test/bench/bench.mjs --strict  # exit 1 when a budget is missed
//
// Options: --duration <s> (measured seconds per phase, default 10), --warmup <s> (default 2),
// --rounds <n> (baseline/webhook alternations, default 3), --connections <n> (default 32),
// --rate <n> (open-loop reviews/s, default 1000), --policies <n> (NamespacePolicies of the start,
// RSS and cluster-view runs, default 1000), --quick (duration 3, warmup 1, rounds 1), --strict,
// --phases closed,open,start,rss,cluster-rss,hostile,audit,workers (run a subset),
// --echo-mode ack|full (the baseline answers a bare `allowed`, default, or sends the review back),
// --profile <dir> (CPU profiles of the baseline and the webhook: <dir>/echo.cpuprofile,
// <dir>/webhook.cpuprofile), --webhook-args="<serve flags>" (extra `serve` flags for every webhook
// run, e.g. --webhook-args="--review-memo 0" to judge every review afresh),
// --webhook-node-args="<node flags>" (extra node flags for every
// webhook child, for experiments), --variants <n> (instances of each corpus review in the stream,
// default 40).
// Exit status: 0; 1 with --strict when a budget is missed or a request failed; 2 when the bench
// itself fails; 3 when it overruns its time limit; 130 on SIGINT/SIGTERM. Children and temp
// directories are removed in every case.
//
// Everything runs on 127.0.0.1. The baseline and the webhook run as child processes with the same
// certificate, body limit and keep-alive settings; the load generator is a minimal HTTP/1.1 client
// over raw TLS sockets (pre-serialised request Buffers, Content-Length framing only), so that as
// little of the two shared cores as possible goes to the client (measured against the baseline:
// ~40 us of client CPU per review, against ~100 us for node:https with a keep-alive Agent).
// With the server saturated, reviews/s webhook/baseline then tracks the ratio of server CPU per
// review, which the table also shows and which is much less sensitive to other load on the machine.
//
// Streams: no API server sends the same AdmissionReview twice, so the load is not the 45 corpus
// reviews over and over but --variants instances of each, as the API server would send them: a
// fresh request.uid each; for a Pod a fresh metadata.name (generateName + 5 characters of the
// Kubernetes name generator, or <name>-<variant> without generateName; a Pod still without a name,
// on /mutate, stays so), request.name to match, and a fresh metadata.uid where one is set. The
// stream interleaves them (variant 0 of every review, then variant 1, ...), so consecutive sends
// are different reviews; both servers get the identical stream, in every phase that sends load
// (closed and open loop, hostile under load, workers; the RSS run's 1,000 namespaced reviews get as
// many instances as fit in ~8,000 requests). Only the per-instance fields differ: a verdict cache
// keyed on the rest sees 45 reviews over and over, as it would in a cluster. verify checks the
// answers to variant 0 of each review (the first 45 of a stream).
// The "distinct" figure (closed loop, /mutate and /validate on the bench corpus, informational:
// not a budget, not part of --strict, its request errors shown on its line, not in the count) is
// the other end: every send carries a unique annotation value (bench.gpu-admission.io/instance,
// a 12-digit serial written into a copy of a prebuilt request) and a fresh request.uid, so no
// review's content ever repeats and every answer is computed. JSON: `closedDistinct`.
//
// Budgets: closed-loop reviews/s webhook/baseline >= 0.85 for /mutate and /validate on the bench
// corpus and /validate on the denied corpus; open-loop p99 at 1,000/s webhook/baseline <= 1.25;
// ready (first /readyz 200 from the spawn) < 300 ms with the shipped policies and < 1 s with 1,000;
// RSS with 1,000 NamespacePolicies < 150 MiB, offline and with a cluster view (informers on a fake
// API server), both with the image's NODE_OPTIONS; each malformed, oversized or deeply nested
// review answered as documented within 2 s (ordinary) or 10 s (bodies of MiBs, 10,000+ items or
// levels), the worst Pod specs at the shape bounds within 50 ms (from the first byte sent), idle and
// under a steady 1,000 reviews/s; `gpu-admission audit` of 10,000 objects < 10 s.
import { spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, performance } from 'node:perf_hooks';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REVIEWS_DIR = fileURLToPath(new URL('../fixtures/reviews/', import.meta.url));
const BODY_LIMIT = 3 * 1024 * 1024;
const KEEP_ALIVE_MS = 75_000;
const NAMESPACES = ['inference', 'training', 'notebooks', 'default'];
const BUDGET = { throughputRatio: 0.85, p99Ratio: 1.25, rssMiB: 150 };
const WORKER_COUNTS = [1, 2];
const PHASES = ['closed', 'open', 'start', 'rss', 'cluster-rss', 'hostile', 'audit', 'workers'];
/** Ready (first /readyz 200 from the spawn) with the shipped policies and with --policies NamespacePolicies. */
const READY_BUDGET_MS = { shipped: 300, many: 1000 };
const START_RUNS = 5;
/** The image's NODE_OPTIONS (Dockerfile): memory is measured as the image runs the program. */
const IMAGE_NODE_ARGS = ['--max-semi-space-size=4'];

// ---------------------------------------------------------------------------------------------
// Echo baseline (child mode): bare fastify over HTTPS, default JSON parser, the review sent back.
// ---------------------------------------------------------------------------------------------
async function echoServer() {
  const [, , , port, certFile, keyFile, mode = 'full'] = process.argv;
  const { default: Fastify } = await import('fastify');
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    keepAliveTimeout: KEEP_ALIVE_MS,
    https: { cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' },
  });
  // full: an echo in the literal sense, the review goes back as it came (parsed and serialised by
  // fastify). ack: the cheapest possible answer, a bare `allowed` with the uid (the stricter baseline).
  const echo = mode === 'ack'
    ? async (request) => ({ apiVersion: request.body.apiVersion, kind: 'AdmissionReview', response: { uid: request.body.request.uid, allowed: true } })
    : async (request) => request.body;
  app.post('/mutate', echo);
  app.post('/validate', echo);
  app.get('/readyz', async () => ({ status: 'ready' }));
  await app.listen({ host: '127.0.0.1', port: Number(port) });
  const stop = () => app.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------
function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' }, warmup: { type: 'string' }, rounds: { type: 'string' },
      connections: { type: 'string', default: '32' }, rate: { type: 'string', default: '1000' },
      policies: { type: 'string', default: '1000' }, quick: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
      profile: { type: 'string' }, 'webhook-node-args': { type: 'string', default: '' }, 'webhook-args': { type: 'string', default: '' }, phases: { type: 'string', default: PHASES.join(',') },
      'echo-mode': { type: 'string', default: 'ack' }, variants: { type: 'string', default: '40' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(`usage: node test/bench/bench.mjs [--duration s] [--warmup s] [--rounds n] [--connections n] [--rate n] [--policies n] [--quick] [--strict] [--profile dir] [--phases ${PHASES.join(',')}] [--echo-mode ack|full] [--variants n] [--webhook-args="..."] [--webhook-node-args="..."]`);
    process.exit(0);
  }
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${v}`);
    return n;
  };
  const quick = values.quick;
  return {
    duration: num('duration', values.duration ?? (quick ? 3 : 10), 0.5),
    warmup: num('warmup', values.warmup ?? (quick ? 1 : 2), 0),
    rounds: Math.floor(num('rounds', values.rounds ?? (quick ? 1 : 3), 1)),
    connections: Math.floor(num('connections', values.connections, 1)),
    rate: num('rate', values.rate, 1),
    policies: Math.floor(num('policies', values.policies, 1)),
    variants: Math.floor(num('variants', values.variants, 1)),
    strict: values.strict,
    profile: values.profile,
    webhookNodeArgs: values['webhook-node-args'].split(/\s+/).filter(Boolean),
    webhookArgs: values['webhook-args'].split(/\s+/).filter(Boolean),
    phases: new Set(values.phases.split(',').map((p) => p.trim()).filter(Boolean)),
    echoMode: ['full', 'ack'].includes(values['echo-mode']) ? values['echo-mode'] : (() => { throw new Error('--echo-mode is full or ack'); })(),
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes and clean-up
// ---------------------------------------------------------------------------------------------
const children = new Set();
const tempDirs = new Set();

function startChild(name, args) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = name;
  child.output = '';
  const keep = (d) => { child.output = (child.output + d).slice(-4000); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => { children.delete(child); resolve({ code, signal }); }));
  children.add(child);
  return child;
}

async function stopChild(child) {
  if (!children.has(child)) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await child.exited;
  clearTimeout(timer);
}

function cleanupSync() {
  for (const child of children) { try { child.kill('SIGKILL'); } catch { /* gone */ } }
  children.clear();
  for (const dir of tempDirs) { try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ } }
  tempDirs.clear();
}

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function run(args, label) {
  const child = startChild(label, args);
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${label} failed (${code ?? signal}): ${child.output.trim()}`);
  return child.output;
}

// ---------------------------------------------------------------------------------------------
// Minimal keep-alive HTTP/1.1 client over TLS
// ---------------------------------------------------------------------------------------------
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

class Conn {
  constructor(target) {
    this.target = target;
    this.socket = undefined;
    this.buf = null;
    this.need = -1;
    this.status = 0;
    this.cb = null;
    this.closing = false;
  }

  open() {
    const { port, ca } = this.target;
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    s.setNoDelay(true);
    s.on('data', (chunk) => { if (this.socket === s) this.onData(chunk); });
    s.on('error', (err) => { if (this.socket === s) this.fail(err); });
    s.on('close', () => { if (this.socket === s) this.fail(new Error('connection closed')); });
    this.socket = s;
    this.buf = null;
    this.need = -1;
    return new Promise((resolve, reject) => {
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
  }

  /** Sends one pre-serialised request; cb(err, status, body) when the whole response is in. */
  send(request, cb) {
    if (!this.socket || this.socket.destroyed) this.open().catch(() => undefined);
    this.cb = cb;
    this.socket.write(request);
  }

  fail(err) {
    const cb = this.cb;
    this.cb = null;
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    this.socket = undefined;
    if (cb && !this.closing) cb(err, 0, null);
  }

  onData(chunk) {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.need < 0) {
        const end = this.buf.indexOf(CRLFCRLF);
        if (end < 0) return;
        const head = this.buf.toString('latin1', 0, end);
        const m = CONTENT_LENGTH.exec(head);
        if (!m) return this.fail(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
        this.status = Number(head.slice(9, 12));
        this.need = Number(m[1]);
        this.buf = this.buf.subarray(end + 4);
      }
      if (this.buf.length < this.need) return;
      const body = this.buf.subarray(0, this.need);
      this.buf = this.buf.length === this.need ? null : this.buf.subarray(this.need);
      this.need = -1;
      const cb = this.cb;
      this.cb = null;
      if (cb) cb(null, this.status, body);
      if (this.buf === null) return;
    }
  }

  close() {
    this.closing = true;
    this.socket?.destroy();
    this.socket = undefined;
  }
}

function requestBuffer(path, port, body) {
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: kube-apiserver-admission\r\n` +
    `Accept: application/json, */*\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

function sendOnce(conn, request) {
  return new Promise((resolve, reject) => conn.send(request, (err, status, body) => (err ? reject(err) : resolve({ status, body }))));
}

async function waitReady(target, child, timeoutMs = 30_000, pollMs = 100) {
  const deadline = Date.now() + timeoutMs;
  const probe = Buffer.from(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n\r\n`, 'latin1');
  for (;;) {
    if (!children.has(child)) throw new Error(`${child.label} exited during start-up: ${child.output.trim()}`);
    const conn = new Conn(target);
    try {
      await conn.open();
      const { status } = await sendOnce(conn, probe);
      if (status === 200) return;
    } catch { /* not listening yet */ } finally {
      conn.close();
    }
    if (Date.now() > deadline) throw new Error(`${child.label} not ready after ${timeoutMs} ms: ${child.output.trim()}`);
    await sleep(pollMs);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process in ms (Linux). */
function cpuMs(pid, mainThreadOnly = false) {
  try {
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // CLK_TCK = 100
  } catch {
    return NaN;
  }
}

/** CPU ms of a process and its children (the primary and the workers of `serve --workers N`). */
function treeCpuMs(pid) {
  let total = cpuMs(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) total += cpuMs(Number(entry));
    } catch { /* gone */ }
  }
  return total;
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

// ---------------------------------------------------------------------------------------------
// Load phases
// ---------------------------------------------------------------------------------------------
function newHist() {
  return createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
}
const ms = (h, p) => (h.count > 0 ? h.percentile(p) / 1000 : NaN);

async function drain(conns, inFlight, limitMs = 10_000) {
  const deadline = Date.now() + limitMs;
  while (inFlight() > 0 && Date.now() < deadline) await sleep(5);
  if (inFlight() > 0) for (const c of conns) if (c.cb) c.fail(new Error('drain timeout'));
}

/** The i-th request of a stream: an array of request Buffers, cycled, or a function (i) => Buffer. */
const pickerOf = (requests) => (typeof requests === 'function' ? requests : (i) => requests[i % requests.length]);

/**
 * N connections, each sending back to back; measures completions inside the window. `requests`:
 * an array of request Buffers (cycled) or a function (i) => Buffer (the distinct stream).
 */
async function closedLoop(target, conns, requests, { warmup, duration }) {
  const hist = newHist();
  const pick = pickerOf(requests);
  let next = 0;
  let measuring = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  let inFlight = 0;
  let firstError;
  const fire = (conn) => {
    if (stopped) return;
    const req = pick(next++);
    const t0 = performance.now();
    inFlight++;
    conn.send(req, (err, status) => {
      inFlight--;
      if (measuring && !stopped) {
        if (err || status !== 200) { errors++; firstError ??= err?.message ?? `HTTP ${status}`; } else {
          completed++;
          hist.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        }
      }
      fire(conn);
    });
  };
  for (const c of conns) fire(c);
  await sleep(warmup * 1000);
  measuring = true;
  const cpu0 = target.cpuMs ? target.cpuMs() : cpuMs(target.pid);
  const main0 = cpuMs(target.pid, true);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(duration * 1000);
  stopped = true;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = target.cpuMs ? target.cpuMs() : cpuMs(target.pid);
  const main1 = cpuMs(target.pid, true);
  const client = process.cpuUsage(client0);
  await drain(conns, () => inFlight);
  return {
    rps: completed / elapsed, p50: ms(hist, 50), p99: ms(hist, 99), max: hist.max / 1000, count: completed, errors, firstError,
    serverCpuUsPerReview: ((cpu1 - cpu0) * 1000) / Math.max(1, completed),
    serverMainUsPerReview: ((main1 - main0) * 1000) / Math.max(1, completed),
    serverCpuPct: ((cpu1 - cpu0) / 10) / elapsed,
    clientCpuPct: ((client.user + client.system) / 1e4) / elapsed,
  };
}

/**
 * Fixed arrival rate; requests queue when every connection is busy, and latency is measured
 * from each request's intended send time (no coordinated omission).
 */
async function openLoop(target, conns, requests, { warmup, duration, rate }) {
  const hist = newHist();
  const service = newHist();
  const lag = newHist();
  const interval = 1000 / rate;
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + duration * 1000;
  const idle = [...conns];
  const queue = [];
  let qHead = 0;
  let nextIntended = start;
  let next = 0;
  let inFlight = 0;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  let maxQueue = 0;
  let firstError;
  let timer;

  const pump = () => {
    const now = performance.now();
    while (!stopped && nextIntended <= now) {
      if (nextIntended >= end) { stopped = true; break; }
      queue.push(nextIntended);
      nextIntended += interval;
    }
    if (queue.length - qHead > maxQueue) maxQueue = queue.length - qHead;
    while (qHead < queue.length && idle.length > 0) {
      const intended = queue[qHead++];
      const conn = idle.shift();
      const req = requests[next++ % requests.length];
      const sent = performance.now();
      inFlight++;
      conn.send(req, (err, status) => {
        inFlight--;
        const done = performance.now();
        if (intended >= measureFrom) {
          if (err || status !== 200) { errors++; firstError ??= err?.message ?? `HTTP ${status}`; } else {
            completed++;
            hist.record(Math.max(1, Math.round((done - intended) * 1000)));
            service.record(Math.max(1, Math.round((done - sent) * 1000)));
            lag.record(Math.max(1, Math.round((sent - intended) * 1000)));
          }
        }
        idle.push(conn);
        pump();
      });
    }
    if (qHead > 4096 && qHead * 2 > queue.length) { queue.splice(0, qHead); qHead = 0; }
  };
  const tick = () => {
    pump();
    if (!stopped) timer = setTimeout(tick, Math.max(0, nextIntended - performance.now()));
  };
  tick();
  await sleep(warmup * 1000);
  const cpu0 = target.cpuMs ? target.cpuMs() : cpuMs(target.pid);
  await sleep(Math.max(0, end - performance.now()));
  const giveUp = end + 10_000;
  while ((!stopped || qHead < queue.length) && performance.now() < giveUp) await sleep(5);
  stopped = true;
  clearTimeout(timer);
  await drain(conns, () => inFlight);
  const cpu1 = target.cpuMs ? target.cpuMs() : cpuMs(target.pid);
  return {
    offered: rate, achieved: completed / duration, p50: ms(hist, 50), p99: ms(hist, 99), max: hist.max / 1000,
    serviceP50: ms(service, 50), serviceP99: ms(service, 99), lagP50: ms(lag, 50), lagP99: ms(lag, 99), count: completed, errors, firstError, maxQueue,
    serverCpuPct: ((cpu1 - cpu0) / 10) / duration,
  };
}

// ---------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------
function setNamespace(review, ns) {
  const r = review.request;
  r.namespace = ns;
  for (const o of [r.object, r.oldObject]) if (o?.metadata) o.metadata.namespace = ns;
  return review;
}

/** A FieldsV1 tree as kube-apiserver records it for an object: f:<field>, k:{"name":...} for named list items. */
function fieldsV1(value) {
  if (Array.isArray(value)) {
    const out = {};
    for (const item of value) {
      if (item && typeof item === 'object' && typeof item.name === 'string') out[`k:${JSON.stringify({ name: item.name })}`] = fieldsV1(item);
      else if (item && typeof item === 'object' && typeof item.key === 'string') out[`k:${JSON.stringify({ key: item.key, operator: item.operator ?? 'Equal' })}`] = fieldsV1(item);
      else out[`v:${JSON.stringify(item)}`] = {};
    }
    return { '.': {}, ...out };
  }
  if (value && typeof value === 'object') {
    const out = { '.': {} };
    for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsV1(v);
    return out;
  }
  return {};
}

const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

function serviceAccountVolume(suffix) {
  return {
    name: `kube-api-access-${suffix}`,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 420,
    },
  };
}

/** A vLLM model server Pod as the API server hands it to a mutating webhook (defaults applied). */
function vllmPod({ name, ns, model, gpuResource = 'nvidia.com/gpu', gpus = 1, conform }) {
  const sa = Math.random().toString(36).slice(2, 7);
  const gpu = gpus > 0 ? { [gpuResource]: String(gpus) } : {};
  const resources = {
    limits: { cpu: String(4 * Math.max(1, gpus)), memory: `${32 * Math.max(1, gpus)}Gi`, 'ephemeral-storage': '120Gi', ...gpu },
    requests: { cpu: String(4 * Math.max(1, gpus)), memory: `${32 * Math.max(1, gpus)}Gi`, 'ephemeral-storage': '120Gi', ...gpu },
  };
  const probe = (path, period, failure) => ({
    httpGet: { path, port: 8000, scheme: 'HTTP' }, initialDelaySeconds: 0, timeoutSeconds: 5, periodSeconds: period, successThreshold: 1, failureThreshold: failure,
  });
  const container = {
    name: 'vllm',
    image: 'docker.io/vllm/vllm-openai:v0.10.0',
    command: ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
    args: [
      `--model=${model}`, `--tensor-parallel-size=${Math.max(1, gpus)}`, '--host=0.0.0.0', '--port=8000', '--swap-space=16',
      '--gpu-memory-utilization=0.92', '--max-model-len=32768', '--max-num-seqs=64', '--enable-prefix-caching',
      '--disable-log-requests', '--download-dir=/models', '--served-model-name', model.split('/').pop(),
    ],
    ports: [{ name: 'http', containerPort: 8000, protocol: 'TCP' }, { name: 'metrics', containerPort: 8001, protocol: 'TCP' }],
    env: [
      { name: 'MODEL_ID', value: model },
      { name: 'HUGGING_FACE_HUB_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-secret', key: 'hf_api_token' } } },
      { name: 'HF_HOME', value: '/models/.cache' },
      { name: 'VLLM_WORKER_MULTIPROC_METHOD', value: 'spawn' },
      { name: 'VLLM_LOGGING_LEVEL', value: 'INFO' },
      { name: 'VLLM_ATTENTION_BACKEND', value: 'FLASHINFER' },
      { name: 'LD_LIBRARY_PATH', value: '${LD_LIBRARY_PATH}:/usr/local/nvidia/lib64' },
      { name: 'NCCL_DEBUG', value: 'WARN' },
      { name: 'NCCL_P2P_DISABLE', value: '0' },
      { name: 'OMP_NUM_THREADS', value: '8' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability.svc:4317' },
      { name: 'OTEL_SERVICE_NAME', value: name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '') },
    ],
    resources,
    volumeMounts: [
      { name: 'dshm', mountPath: '/dev/shm' },
      { name: 'model-cache', mountPath: '/models' },
      { name: 'hf-secret', mountPath: '/etc/hf', readOnly: true },
      { name: `kube-api-access-${sa}`, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    livenessProbe: probe('/health', 10, 3),
    readinessProbe: probe('/health', 5, 3),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, runAsUser: 1000 },
  };
  const spec = {
    volumes: [
      { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } },
      { name: 'model-cache', persistentVolumeClaim: { claimName: `${model.split('/').pop().toLowerCase()}-cache` } },
      { name: 'hf-secret', secret: { secretName: 'hf-secret', defaultMode: 420 } },
      serviceAccountVolume(sa),
    ],
    containers: [container],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'vllm',
    serviceAccount: 'vllm',
    securityContext: { fsGroup: 1000 },
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'vllm' } }, topologyKey: 'kubernetes.io/hostname' } },
        ],
      },
    },
    schedulerName: 'default-scheduler',
    tolerations: [...DEFAULT_TOLERATIONS],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  };
  if (conform) Object.assign(spec, conform(spec, container));
  const hash = '7f9c8d5b64';
  const labels = { app: 'vllm', 'app.kubernetes.io/name': 'vllm', 'app.kubernetes.io/component': 'model-server', 'ai.gke.io/model': model.split('/').pop(), 'pod-template-hash': hash };
  const annotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8001', 'kubectl.kubernetes.io/default-container': 'vllm' };
  const metadata = {
    name, generateName: `${name.slice(0, name.lastIndexOf('-') + 1)}`, namespace: ns, creationTimestamp: null, labels, annotations,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name.slice(0, name.lastIndexOf('-'))}`, uid: randomUUID(), controller: true, blockOwnerDeletion: true }],
  };
  const { volumes, containers, ...rest } = spec;
  metadata.managedFields = [{
    manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-11-23T19:29:32Z', fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': fieldsV1({ generateName: 1, labels, annotations, ownerReferences: metadata.ownerReferences.map((o) => ({ ...o, name: o.name })) }), 'f:spec': fieldsV1({ containers, volumes, ...rest }) },
  }];
  return { kind: 'Pod', apiVersion: 'v1', metadata, spec, status: {} };
}

function cpuPod({ name, ns }) {
  const sa = Math.random().toString(36).slice(2, 7);
  const container = {
    name: 'router',
    image: 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1',
    args: ['--poolName=vllm', '--poolNamespace=inference', '--v=2', '--zap-encoder=json', '--grpcPort=9002', '--grpcHealthPort=9003'],
    ports: [{ name: 'grpc', containerPort: 9002, protocol: 'TCP' }, { name: 'grpc-health', containerPort: 9003, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
    env: [
      { name: 'KV_CACHE_SCORE_WEIGHT', value: '1' }, { name: 'QUEUE_SCORE_WEIGHT', value: '1' }, { name: 'PREFIX_CACHE_SCORE_WEIGHT', value: '2' },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    ],
    resources: { limits: { cpu: '2', memory: '2Gi' }, requests: { cpu: '500m', memory: '1Gi' } },
    volumeMounts: [{ name: `kube-api-access-${sa}`, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
    livenessProbe: { grpc: { port: 9003, service: 'inference-extension' }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
    readinessProbe: { grpc: { port: 9003, service: 'inference-extension' }, initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
  };
  const spec = {
    volumes: [serviceAccountVolume(sa)], containers: [container], restartPolicy: 'Always', terminationGracePeriodSeconds: 130,
    dnsPolicy: 'ClusterFirst', serviceAccountName: 'epp', serviceAccount: 'epp', securityContext: {}, schedulerName: 'default-scheduler',
    tolerations: [...DEFAULT_TOLERATIONS], priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
  };
  const labels = { app: 'epp', 'pod-template-hash': '5d8f7c9b4' };
  const metadata = {
    name, generateName: `${name.slice(0, name.lastIndexOf('-') + 1)}`, namespace: ns, creationTimestamp: null, labels,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: name.slice(0, name.lastIndexOf('-')), uid: randomUUID(), controller: true, blockOwnerDeletion: true }],
  };
  metadata.managedFields = [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-11-23T19:29:32Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': fieldsV1({ labels }), 'f:spec': fieldsV1(spec) } }];
  return { kind: 'Pod', apiVersion: 'v1', metadata, spec, status: {} };
}

function podReview(pod) {
  const gvk = { group: '', version: 'v1', kind: 'Pod' };
  const gvr = { group: '', version: 'v1', resource: 'pods' };
  return {
    kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: randomUUID(), kind: gvk, resource: gvr, requestKind: gvk, requestResource: gvr, name: pod.metadata.name, namespace: pod.metadata.namespace,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: randomUUID(), groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
      object: pod, oldObject: null, dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

/** Inference Pod that already satisfies realtime-inference: nothing to patch. */
const conformInference = (spec, c) => {
  c.startupProbe = { httpGet: { path: '/health', port: 8000, scheme: 'HTTP' }, timeoutSeconds: 5, periodSeconds: 10, successThreshold: 1, failureThreshold: 90 };
  return {
    terminationGracePeriodSeconds: 120, priorityClassName: 'inference-critical', priority: 1000000,
    nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
    tolerations: [...spec.tolerations, { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }],
  };
};

function synthesizedReviews(namespaceOf = (ns) => ns) {
  const out = [];
  const add = (label, pod) => out.push({ label, review: podReview(pod) });
  add('vllm-llama-8b', vllmPod({ name: 'vllm-llama-3-1-8b-7f9c8d5b64-x2k9q', ns: namespaceOf('inference'), model: 'meta-llama/Llama-3.1-8B-Instruct' }));
  add('vllm-gemma-27b', vllmPod({ name: 'vllm-gemma-3-27b-7f9c8d5b64-abcde', ns: namespaceOf('inference'), model: 'google/gemma-3-27b-it', gpus: 2 }));
  add('vllm-conforming', vllmPod({ name: 'vllm-qwen-2-5-7b-7f9c8d5b64-p0q1r', ns: namespaceOf('inference'), model: 'Qwen/Qwen2.5-7B-Instruct', conform: conformInference }));
  add('epp-router', cpuPod({ name: 'epp-5d8f7c9b4-zz8k2', ns: namespaceOf('inference') }));
  add('vllm-70b-tp8', vllmPod({ name: 'vllm-llama-3-3-70b-7f9c8d5b64-t8t8t', ns: namespaceOf('training'), model: 'meta-llama/Llama-3.3-70B-Instruct', gpus: 8 }));
  add('vllm-mig', vllmPod({ name: 'vllm-phi-4-mini-7f9c8d5b64-m1g5g', ns: namespaceOf('notebooks'), model: 'microsoft/Phi-4-mini-instruct', gpuResource: 'nvidia.com/mig-1g.5gb' }));
  add('epp-router', cpuPod({ name: 'epp-5d8f7c9b4-nb001', ns: namespaceOf('notebooks') }));
  add('epp-router', cpuPod({ name: 'epp-5d8f7c9b4-df001', ns: namespaceOf('default') }));
  add('vllm-cpu-only', vllmPod({ name: 'vllm-cpu-7f9c8d5b64-cpu01', ns: namespaceOf('default'), model: 'facebook/opt-125m', gpus: 0 }));
  return out;
}

function buildCorpus() {
  const files = readdirSync(REVIEWS_DIR).filter((f) => f.endsWith('.json')).sort();
  const entries = [];
  for (const file of files) {
    const review = JSON.parse(readFileSync(join(REVIEWS_DIR, file), 'utf8'));
    if (review?.request?.kind?.kind !== 'Pod') continue;
    for (const ns of NAMESPACES) {
      const r = setNamespace(structuredClone(review), ns);
      r.request.uid = randomUUID();
      entries.push({ label: `${file.replace(/\.json$/, '')}@${ns}`, review: r });
    }
  }
  const corpusCount = entries.length;
  entries.push(...synthesizedReviews());
  return { entries, corpusCount };
}

/**
 * The same reviews made to be denied by the shipped policies: accelerator Pods in a namespace the
 * strict default governs (accelerator-allowed), or naming a PriorityClass their policy does not
 * allow (priority-class); CPU Pods that tolerate the GPU taint (gpu-squatting). Judged on /validate.
 */
function deniedCorpus(entries) {
  return entries.map((e, i) => {
    const r = structuredClone(e.review);
    r.request.uid = randomUUID();
    const spec = r.request.object.spec;
    const accelerator = /"(nvidia\.com|amd\.com)\//.test(JSON.stringify([spec.containers, spec.initContainers]));
    let how;
    if (!accelerator) {
      spec.tolerations = [...(spec.tolerations ?? []), { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
      setNamespace(r, i % 2 ? 'inference' : 'training');
      how = 'squatting';
    } else if (i % 2 === 0) {
      setNamespace(r, `team-${i}`);
      how = 'not-onboarded';
    } else {
      setNamespace(r, 'inference');
      spec.priorityClassName = 'training-preemptible';
      delete spec.priority;
      how = 'priority';
    }
    return { label: `${e.label}:${how}`, review: r };
  });
}

function bodiesOf(entries) {
  return entries.map((e) => Buffer.from(JSON.stringify(e.review)));
}

/** The alphabet of Kubernetes' name generator (k8s.io/apimachinery/pkg/util/rand.String). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const nameSuffix = (n = 5) => Array.from({ length: n }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('');

/**
 * One more instance of a review, as the API server would send it: a fresh request.uid; for a Pod
 * a fresh metadata.name (generateName + 5 generated characters, or <name>-<variant> without
 * generateName; left unset when unset) with request.name to match where it is set, and a fresh
 * metadata.uid where one is set (the oldObject of an UPDATE follows the object).
 */
function instanceOf(review, variant) {
  const r = structuredClone(review);
  const req = r.request;
  req.uid = randomUUID();
  const m = req.object?.metadata;
  if (req.object?.kind === 'Pod' && m) {
    const old = req.oldObject?.metadata;
    if (m.name) {
      const name = m.generateName ? `${m.generateName}${nameSuffix()}` : `${m.name}-${variant}`;
      if (old?.name === m.name) old.name = name;
      m.name = name;
      if (req.name) req.name = name;
    }
    if (m.uid) {
      const uid = randomUUID();
      if (old?.uid === m.uid) old.uid = uid;
      m.uid = uid;
    }
  }
  return r;
}

/**
 * `variants` instances of each entry, interleaved (variant 0 of every entry, then variant 1, ...):
 * the first entries.length are variant 0 of the entries in their order. Each keeps its entry's index.
 */
function variantsOf(entries, variants) {
  const out = [];
  for (let v = 0; v < variants; v++) {
    for (const [index, e] of entries.entries()) out.push({ label: `${e.label}~${v}`, entry: index, review: instanceOf(e.review, v) });
  }
  return out;
}

const INSTANCE_KEY = 'bench.gpu-admission.io/instance';
const INSTANCE_WIDTH = 12;
let distinctSerial = 0; // shared by every distinct stream: no value is ever sent twice in a run

/**
 * The distinct stream of `entries` on `path` of `target`: a function (i) => request Buffer whose
 * review carries a value no other send has (the annotation INSTANCE_KEY, a 12-digit serial) and a
 * fresh request.uid, so that no review's content ever repeats. Prebuilt per entry; each send is a
 * copy with the placeholder digits and the uid overwritten in place (same length, same framing).
 */
function distinctStream(target, path, entries) {
  const templates = entries.map((e) => {
    const r = structuredClone(e.review);
    r.request.uid = randomUUID();
    const m = r.request.object.metadata ??= {};
    m.annotations = { ...m.annotations, [INSTANCE_KEY]: '0'.repeat(INSTANCE_WIDTH) };
    const buf = requestBuffer(`${path}?timeout=10s`, target.port, Buffer.from(JSON.stringify(r)));
    const at = buf.indexOf(`"${INSTANCE_KEY}":"${'0'.repeat(INSTANCE_WIDTH)}"`);
    const uidAt = buf.indexOf(`"uid":"${r.request.uid}"`);
    if (at < 0 || uidAt < 0) throw new Error(`distinct stream: no placeholder in ${e.label}`);
    return { buf, at: at + INSTANCE_KEY.length + 4, uidAt: uidAt + 7 };
  });
  return (i) => {
    const t = templates[i % templates.length];
    const out = Buffer.allocUnsafe(t.buf.length);
    t.buf.copy(out);
    out.write(String(distinctSerial++).padStart(INSTANCE_WIDTH, '0'), t.at, 'latin1');
    out.write(randomUUID(), t.uidAt, 'latin1');
    return out;
  };
}

/** The request.uid of a pre-serialised request (the distinct stream writes it per send). */
function uidOfRequest(req) {
  return JSON.parse(req.subarray(req.indexOf(CRLFCRLF) + 4).toString('utf8')).request?.uid;
}

/**
 * Sends the first `count` requests of a stream once (an array: every one by default; a function:
 * entries.length); checks status, uid echo; classifies the webhook's answers. entries[i] is what
 * request i carries (for a variant stream, verify on variant 0: the first entries.length).
 */
async function verify(conn, requests, entries, server, count = typeof requests === 'function' ? entries.length : requests.length) {
  const mix = { patched: 0, plain: 0, warned: 0, denied: 0 };
  const pick = pickerOf(requests);
  for (let i = 0; i < count; i++) {
    const req = pick(i);
    const expected = typeof requests === 'function' ? uidOfRequest(req) : entries[i].review.request.uid;
    const { status, body } = await sendOnce(conn, req);
    const text = body.toString('utf8');
    if (status !== 200) throw new Error(`${server} answered ${entries[i].label} with HTTP ${status}: ${text.slice(0, 300)}`);
    const out = JSON.parse(text);
    const uid = out.response?.uid ?? out.request?.uid;
    if (uid !== expected) throw new Error(`${server} answered ${entries[i].label} with uid ${uid}, expected ${expected}`);
    if (server === 'echo') continue; // the full echo answers with the review itself
    const r = out.response;
    if (!r.allowed) mix.denied++;
    else if (r.patch) mix.patched++;
    else mix.plain++;
    if (r.warnings?.length) mix.warned++;
  }
  return mix;
}

// ---------------------------------------------------------------------------------------------
// 1,000-policy RSS run
// ---------------------------------------------------------------------------------------------
function policyDoc(i) {
  const name = `ns-${i}`;
  const flavour = i % 4;
  const lines = [
    'apiVersion: gpu-admission.io/v1alpha1', 'kind: NamespacePolicy', 'metadata:', `  name: ${name}`, 'spec:', '  namespaces:', `    names: [${name}]`,
  ];
  if (flavour === 0) {
    lines.push('    selector:', '      matchLabels:', `        gpu-admission.io/team: team-${i}`, '  mode: enforce', '  accelerators:', '    allowed: true',
      '    pools: [l4, a100-80gb]', '    resources: [nvidia.com/gpu]', '    defaultPool: l4', '    maxPerPod: 8', '  startupProbe:', '    minBudgetSeconds: 900',
      '  terminationGracePeriodSeconds: 120', '  priority:', '    defaultClass: inference-critical', '    allowedClasses: [inference-critical, inference-standard]',
      '  requirements:', '    memoryLimit: true', '    cpuRequest: true');
  } else if (flavour === 1) {
    lines.push('  mode: enforce', '  accelerators:', '    allowed: true', '    pools: [a100-80gb, a100-mig]', '    defaultPool: a100-80gb', '    maxPerPod: 8',
      '  startupProbe:', '    minBudgetSeconds: 600', '  terminationGracePeriodSeconds: 600', '  priority:', '    defaultClass: training-batch',
      '    allowedClasses: [training-batch, training-preemptible]', '  requirements:', '    memoryLimit: true');
  } else if (flavour === 2) {
    lines.push('  mode: warn', '  accelerators:', '    allowed: true', '    pools: [a100-mig, l4]', '    resources: [nvidia.com/mig-*, nvidia.com/gpu]',
      '    defaultPool: a100-mig', '    maxPerPod: 1', '  startupProbe:', '    minBudgetSeconds: 300', '  terminationGracePeriodSeconds: 60', '  priority:',
      '    defaultClass: notebook-interactive', '    allowedClasses: [notebook-interactive]');
  } else {
    lines.push('  mode: audit', '  accelerators:', '    allowed: true', '    pools: [mi300x, l4]', '    resources: [amd.com/gpu, nvidia.com/gpu]',
      '    defaultPool: mi300x', '    maxPerPod: 8', '  startupProbe:', '    minBudgetSeconds: 1200', '  terminationGracePeriodSeconds: 300', '  priority:',
      '    defaultClass: inference-standard', '    allowedClasses: [inference-standard, inference-critical]', '  requirements:', '    memoryLimit: true', '    cpuRequest: true');
  }
  return lines.join('\n');
}

function manyPoliciesDir(count) {
  const dir = tempDir('gpu-admission-bench-policies-');
  copyFileSync(join(ROOT, 'policies', 'pools.yaml'), join(dir, 'pools.yaml'));
  const docs = [];
  for (let i = 0; i < count; i++) docs.push(policyDoc(i));
  writeFileSync(join(dir, 'namespaces.yaml'), `${docs.join('\n---\n')}\n`);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------
async function startWebhook(port, policies, certs, nodeArgs = [], workers = 1) {
  // One process unless told otherwise: the comparison with the echo is per process (serve's default
  // would be one worker per CPU with --offline or without a cluster configuration).
  const child = startChild(`webhook(${policies})`, [
    ...WEBHOOK_NODE_ARGS, ...nodeArgs, join(ROOT, 'dist', 'main.js'), 'serve', '--policies', policies, '--host', '127.0.0.1', '--port', String(port),
    '--cert', join(certs, 'tls.crt'), '--key', join(certs, 'tls.key'), '--shutdown-delay', '0', '--log-level', 'warn', '--workers', String(workers), ...WEBHOOK_ARGS,
  ]);
  return child;
}

// ---------------------------------------------------------------------------------------------
// Time budgets of single requests and of an offline audit (measured here, not inside `npm test`,
// whose tests check the answers only)
// ---------------------------------------------------------------------------------------------
// bounds: the worst Pod specs inside the shape bounds of src/workload/shape.ts (one review's work).
const HOSTILE_MS = { ordinary: 2_000, huge: 10_000, bounds: 50 };
const AUDIT_OBJECTS = 10_000;
const AUDIT_SECONDS = 10;

const nested = (depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Malformed, oversized and deeply nested reviews, each with the answer it must get and its budget. */
function hostileCases() {
  const base = () => podReview(vllmPod({ name: 'vllm-hostile-7f9c8d5b64-h0st1', ns: 'inference', model: 'meta-llama/Llama-3.1-8B-Instruct' }));
  const text = (mutate = () => undefined) => {
    const r = base();
    mutate(r.request.object);
    return JSON.stringify(r);
  };
  const many = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  const terms = (nodeSelectorTerms) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } });
  const padded = (size) => {
    const t = text((o) => { o.metadata.annotations = { pad: '' }; });
    return t.replace('"pad":""', `"pad":"${'p'.repeat(size - Buffer.byteLength(t))}"`);
  };
  return [
    { label: 'truncated JSON', body: text().slice(0, 200), status: 400, budgetMs: HOSTILE_MS.ordinary },
    { label: 'containers of the wrong type', body: text((o) => { o.spec.containers = 'x'; }), status: 200, budgetMs: HOSTILE_MS.ordinary },
    { label: 'exactly the 3 MiB body limit', body: padded(BODY_LIMIT), status: 200, budgetMs: HOSTILE_MS.huge },
    { label: '3 MiB + 1 (over the limit)', body: padded(BODY_LIMIT + 1), status: 413, budgetMs: HOSTILE_MS.huge },
    // Refused on its Content-Length while the client still writes: the 413 or a reset both end it.
    { label: '10 MiB of garbage', body: '{'.repeat(10 * 1024 * 1024), status: 413, resetOk: true, budgetMs: HOSTILE_MS.huge },
    { label: '10,000 levels in an unread spec field', body: text().replace('"spec":{', `"spec":{"unread":${nested(10_000)},`), status: 400, budgetMs: HOSTILE_MS.huge },
    { label: '100,000 levels in an unknown top-level field', body: `{"x":${nested(100_000)},${text().slice(1)}`, status: 200, budgetMs: HOSTILE_MS.huge },
    { label: '100,000 values in one requirement', body: text((o) => { o.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4', ...many(99_999, (i) => `v${i}`)] }] }] } } }; }), status: 200, budgetMs: HOSTILE_MS.huge },
    { label: '20,000 env entries and a 1 MiB image name', body: text((o) => { o.spec.containers[0].env = many(20_000, (i) => ({ name: `E${i}`, value: 'x' })); o.spec.containers[0].image = 'i'.repeat(1 << 20); }), status: 200, budgetMs: HOSTILE_MS.huge },
    // At the shape bounds (src/workload/shape.ts): answered, each within 50 ms.
    { label: 'bounds: 256 nodeSelector keys x 100 terms', body: text((o) => { o.spec.nodeSelector = { ...o.spec.nodeSelector, ...Object.fromEntries(many(255, (i) => [`k${i}`, `v${i}`])) }; o.spec.affinity = terms(many(100, (t) => ({ matchExpressions: [{ key: 'k3', operator: 'In', values: ['v3', `w${t}`] }, { key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4', `x${t}`] }] }))); }), status: 200, budgetMs: HOSTILE_MS.bounds, repeat: 5 },
    { label: 'bounds: 256 keys x 100 terms x 10 requirements', body: text((o) => { o.spec.nodeSelector = { ...o.spec.nodeSelector, ...Object.fromEntries(many(255, (i) => [`k${i}`, `v${i}`])) }; o.spec.affinity = terms(many(100, () => ({ matchExpressions: many(10, (j) => ({ key: `k${j}`, operator: 'In', values: [`v${j}`, `w${j}`] })) }))); }), status: 200, budgetMs: HOSTILE_MS.bounds, repeat: 5 },
    { label: 'bounds: 2 requirements x 10,000 values on one key', body: text((o) => { o.spec.affinity = terms([{ matchExpressions: many(2, (j) => ({ key: 'cloud.google.com/gke-accelerator', operator: j % 2 ? 'NotIn' : 'In', values: many(10_000, (v) => `v${v}`) })) }]); }), status: 200, budgetMs: HOSTILE_MS.bounds, repeat: 5 },
    { label: 'bounds: 15 terms x 64 requirements', body: text((o) => { o.spec.affinity = terms(many(15, (t) => ({ matchExpressions: many(64, (j) => ({ key: `key${j % 4}`, operator: 'In', values: [`v${j}`, `t${t}`] })) }))); }), status: 200, budgetMs: HOSTILE_MS.bounds, repeat: 5 },
    { label: 'bounds: 10,000 tolerations', body: text((o) => { o.spec.tolerations = [...o.spec.tolerations, ...many(9_990, (i) => ({ key: `t${i}`, operator: 'Equal', value: 'x', effect: 'NoSchedule' }))]; }), status: 200, budgetMs: HOSTILE_MS.bounds, repeat: 5 },
    { label: 'bounds: 2,000 containers, each requesting a GPU', body: text((o) => { o.spec.containers = [...o.spec.containers, ...many(1_999, (i) => ({ name: `c${i}`, image: 'vllm/vllm-openai:v0.10.0', resources: { limits: { 'nvidia.com/gpu': '1', cpu: '4', memory: '32Gi' } } }))]; }), status: 200, budgetMs: HOSTILE_MS.bounds, repeat: 5 },
    { label: '10,000 ownerReferences', body: text((o) => { o.metadata.ownerReferences = many(10_000, () => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true })); }), status: 200, budgetMs: HOSTILE_MS.huge },
  ].map((c) => ({ ...c, body: Buffer.from(c.body) }));
}

/** Each hostile review once on /mutate and /validate, on a fresh connection: status and time. */
async function hostilePhase(target) {
  const rows = [];
  for (const c of hostileCases()) {
    for (const path of ['/mutate', '/validate']) {
      const conn = new Conn(target);
      const started = performance.now();
      let best = Infinity;
      let status = 0;
      let error;
      try {
        await conn.open();
        // The answer time, from the first byte of the review sent. Cases at the bounds are sent
        // `repeat` times on the connection and the fastest counts: the steady cost a sender can
        // impose again and again, not the first call's compilation or a scheduling hiccup.
        for (let i = 0; i < (c.repeat ?? 1); i++) {
          const t = performance.now();
          ({ status } = await sendOnce(conn, requestBuffer(`${path}?timeout=10s`, target.port, c.body)));
          best = Math.min(best, performance.now() - t);
          if (status !== c.status) break;
        }
      } catch (err) {
        if (c.resetOk && ['EPIPE', 'ECONNRESET'].includes(err.code)) status = c.status;
        else error = err.message;
      } finally {
        conn.close();
      }
      const took = Number.isFinite(best) ? best : performance.now() - started;
      rows.push({ label: `${path} ${c.label}`, status, expected: c.status, ms: took, budgetMs: c.budgetMs, error, ok: !error && status === c.status && took <= c.budgetMs });
    }
  }
  return rows;
}

/** `gpu-admission audit` over AUDIT_OBJECTS GPU Deployments in one file: objects counted and seconds. */
async function auditPhase() {
  const dir = tempDir('gpu-admission-bench-audit-');
  const spec = vllmPod({ name: 'vllm-audit-7f9c8d5b64-a0001', ns: 'inference', model: 'google/gemma-3-27b-it' }).spec;
  const docs = Array.from({ length: AUDIT_OBJECTS }, (_, i) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `d-${i}`, namespace: NAMESPACES[i % NAMESPACES.length] },
    spec: { replicas: 1, selector: { matchLabels: { app: 'vllm' } }, template: { metadata: { labels: { app: 'vllm' } }, spec } },
  }));
  const file = join(dir, 'many.yaml');
  writeFileSync(file, `${docs.join('\n---\n')}\n`);
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'audit', file, '-o', 'json', '--policies', join(ROOT, 'policies')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const out = [];
  let err = '';
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-2000); });
  const code = await new Promise((resolve) => child.once('exit', (c, sig) => { children.delete(child); resolve(c ?? sig); }));
  const seconds = (performance.now() - started) / 1000;
  // Exit 1 means "something would be denied", which this input has; 2 is an audit that failed.
  if (code !== 0 && code !== 1) throw new Error(`audit of ${AUDIT_OBJECTS} objects exited ${code}: ${err.trim()}`);
  const objects = JSON.parse(Buffer.concat(out).toString('utf8')).summary?.objects;
  return { objects, seconds, ok: objects === AUDIT_OBJECTS && seconds < AUDIT_SECONDS };
}

async function openConns(target, n) {
  const conns = Array.from({ length: n }, () => new Conn(target));
  await Promise.all(conns.map((c) => c.open()));
  return conns;
}

const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const f3 = (n) => (Number.isFinite(n) ? n.toFixed(3) : '-');
const pad = (s, n) => String(s).padStart(n);
const padr = (s, n) => String(s).padEnd(n);

let WEBHOOK_NODE_ARGS = [];
let WEBHOOK_ARGS = [];

/**
 * Steady load at `rate` reviews/s on `conns` while `work()` runs (the hostile phase under load):
 * the answers must stay within their bounds when the server is busy too.
 */
async function underLoad(conns, requests, rate, work) {
  const hist = newHist();
  const idle = [...conns];
  const interval = 1000 / rate;
  let due = performance.now();
  let next = 0;
  let inFlight = 0;
  let completed = 0;
  let errors = 0;
  let stopped = false;
  const pump = () => {
    const now = performance.now();
    while (!stopped && due <= now && idle.length > 0) {
      const conn = idle.shift();
      const sent = performance.now();
      inFlight++;
      conn.send(requests[next++ % requests.length], (err, status) => {
        inFlight--;
        if (err || status !== 200) errors++;
        else { completed++; hist.record(Math.max(1, Math.round((performance.now() - sent) * 1000))); }
        idle.push(conn);
      });
      due += interval;
    }
    if (due < now - 1000) due = now; // all connections busy for a second: do not burst afterwards
  };
  const timer = setInterval(pump, 1);
  const started = performance.now();
  try {
    return { result: await work(), load: { seconds: (performance.now() - started) / 1000 } };
  } finally {
    stopped = true;
    clearInterval(timer);
    await drain(conns, () => inFlight);
  }
}

/** Spawn to the first /readyz 200, `runs` times one after the other: the times in ms. */
async function readyTimes(policies, certs, ca, runs, nodeArgs = []) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const child = await startWebhook(port, policies, certs, nodeArgs);
    try {
      await waitReady({ port, ca, pid: child.pid }, child, 60_000, 2);
      times.push(performance.now() - t0);
    } finally {
      await stopChild(child);
    }
  }
  return times;
}

const medianOf = (values) => {
  const v = [...values].sort((x, y) => x - y);
  return v.length === 0 ? NaN : v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

async function main() {
  const opts = options();
  WEBHOOK_NODE_ARGS = opts.webhookNodeArgs;
  WEBHOOK_ARGS = opts.webhookArgs;
  const began = Date.now();
  const perPhase = opts.warmup + opts.duration + 1;
  const budgetMs = (10 * opts.rounds * perPhase + opts.duration + opts.warmup + 150 + (opts.phases.has('workers') ? WORKER_COUNTS.length * (opts.rounds * perPhase + 15) : 0)) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${Math.round(budgetMs / 1000)} s; giving up`);
    cleanupSync();
    process.exit(3);
  }, budgetMs);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { console.error(`bench: ${sig}, stopping`); cleanupSync(); process.exit(130); });
  process.once('exit', cleanupSync);

  const log = (msg) => console.log(`[${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
  const certs = tempDir('gpu-admission-bench-certs-');
  await run([join(ROOT, 'dist', 'main.js'), 'certs', '--out', certs], 'certs');
  const ca = readFileSync(join(certs, 'ca.crt'));

  const { entries, corpusCount } = buildCorpus();
  const denied = deniedCorpus(entries);
  // The streams: opts.variants instances of each review, interleaved (variant 0 first, in entry order).
  const stream = variantsOf(entries, opts.variants);
  const deniedStream = variantsOf(denied, opts.variants);
  const bodies = bodiesOf(stream);
  const deniedBodies = bodiesOf(deniedStream);
  const sizes = bodies.slice(0, entries.length).map((b) => b.length).sort((a, b) => a - b);
  log(`corpus: ${entries.length} Pod reviews (${corpusCount / NAMESPACES.length} captured x ${NAMESPACES.length} namespaces, ${entries.length - corpusCount} synthesized); ` +
    `body ${sizes[0]}..${sizes[sizes.length - 1]} B, median ${sizes[sizes.length >> 1]} B; the denied corpus: the same ${denied.length} made to be denied`);
  log(`streams: ${opts.variants} instances of each review (fresh request.uid, Pod name and uid), interleaved: ${bodies.length} distinct requests per corpus; ` +
    `distinct: every send a unique ${INSTANCE_KEY} annotation`);
  log(`baseline: bare fastify HTTPS server, ${opts.echoMode === 'ack' ? 'parses the review and answers a bare `allowed`' : 'parses the review and sends it back (literal echo)'}`);

  const [echoPort, hookPort] = [await freePort(), await freePort()];
  const prof = (name) => (opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile, '--cpu-prof-name', `${name}.cpuprofile`] : []);
  const echoChild = startChild('echo', [...prof('echo'), SELF, '--echo-server', String(echoPort), join(certs, 'tls.crt'), join(certs, 'tls.key'), opts.echoMode]);
  const hookChild = await startWebhook(hookPort, join(ROOT, 'policies'), certs, prof('webhook'));
  const echo = { name: 'echo', port: echoPort, ca, pid: echoChild.pid };
  const hook = { name: 'webhook', port: hookPort, ca, pid: hookChild.pid };
  await Promise.all([waitReady(echo, echoChild), waitReady(hook, hookChild)]);
  const requestsOf = (t, path, list) => list.map((b) => requestBuffer(`${path}?timeout=10s`, t.port, b));
  // Each comparison: the webhook on one endpoint and corpus against the baseline fed the same stream.
  // entries: what the stream's requests carry; verify checks the first `count` (variant 0 of each review).
  const comparisons = [
    { name: 'mutate', corpus: 'bench', path: '/mutate', entries: stream, count: entries.length, bodies },
    { name: 'validate', corpus: 'bench', path: '/validate', entries: stream, count: entries.length, bodies },
    { name: 'validate', corpus: 'denied', path: '/validate', entries: deniedStream, count: denied.length, bodies: deniedBodies },
  ].map((c) => ({ ...c, label: `${c.path} ${c.corpus}`, echoRequests: requestsOf(echo, c.path, c.bodies), hookRequests: requestsOf(hook, c.path, c.bodies), echo: [], hook: [] }));
  // Informational, not budgets: the bench corpus with no review's content ever repeated.
  for (const path of ['/mutate', '/validate']) {
    comparisons.push({
      name: path.slice(1), corpus: 'distinct', path, entries, count: entries.length, informational: true, label: `${path} distinct`,
      echoRequests: distinctStream(echo, path, entries), hookRequests: distinctStream(hook, path, entries), echo: [], hook: [],
    });
  }
  const budgeted = comparisons.filter((c) => !c.informational);
  const distinct = comparisons.filter((c) => c.informational);
  const mainRequests = comparisons[0].hookRequests;

  const results = { open: { echo: [], hook: [] } };
  let rss;
  let baseRss;
  try {
    echo.conns = await openConns(echo, opts.connections);
    hook.conns = await openConns(hook, opts.connections);
    results.mix = {};
    for (const c of comparisons) {
      if (c.informational && !opts.phases.has('closed')) continue;
      await verify(echo.conns[0], c.echoRequests, c.entries, 'echo', c.count);
      c.mix = await verify(hook.conns[0], c.hookRequests, c.entries, 'webhook', c.count);
      results.mix[c.label] = c.mix;
      log(`webhook answers on ${c.label}: ${c.mix.patched} patched, ${c.mix.plain} allowed without patch, ${c.mix.denied} denied, ${c.mix.warned} with warnings`);
    }
    if (comparisons[2].mix.denied < 0.7 * denied.length) throw new Error(`the denied corpus is denied ${comparisons[2].mix.denied} times of ${denied.length}: fix deniedCorpus()`);

    // The baseline's run on a corpus serves every endpoint on it (it answers alike on both paths).
    for (let round = 1; round <= opts.rounds && opts.phases.has('closed'); round++) {
      let echoRun;
      for (const c of comparisons) {
        if (c.path === '/mutate' || c.corpus !== comparisons[comparisons.indexOf(c) - 1]?.corpus) {
          log(`closed loop  echo on the ${c.corpus} corpus, round ${round}: ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s`);
          echoRun = await closedLoop(echo, echo.conns, c.echoRequests, opts);
          log(`  -> ${f1(echoRun.rps)} reviews/s, p50 ${f3(echoRun.p50)} ms, p99 ${f3(echoRun.p99)} ms, server ${f1(echoRun.serverCpuUsPerReview)} us CPU/review, errors ${echoRun.errors}`);
        }
        c.echo.push(echoRun);
        log(`closed loop  ${c.label}, round ${round}: ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s`);
        const r = await closedLoop(hook, hook.conns, c.hookRequests, opts);
        c.hook.push(r);
        log(`  -> ${f1(r.rps)} reviews/s, p50 ${f3(r.p50)} ms, p99 ${f3(r.p99)} ms, server ${f1(r.serverCpuUsPerReview)} us CPU/review, errors ${r.errors}`);
      }
    }
    for (let round = 1; round <= opts.rounds && opts.phases.has('open'); round++) {
      for (const [t, requests] of [[echo, comparisons[0].echoRequests], [hook, mainRequests]]) {
        log(`open loop    ${padr(t.name, 7)} /mutate round ${round}: ${opts.rate} reviews/s, ${opts.warmup} s warm-up + ${opts.duration} s`);
        const r = await openLoop(t, t.conns, requests, opts);
        results.open[t === echo ? 'echo' : 'hook'].push(r);
        log(`  -> p50 ${f3(r.p50)} ms, p99 ${f3(r.p99)} ms (service p99 ${f3(r.serviceP99)} ms), achieved ${f1(r.achieved)}/s, errors ${r.errors}`);
      }
    }
    baseRss = procStatus(hook.pid);
    if (opts.phases.has('hostile')) {
      log('hostile input: malformed, oversized and deeply nested reviews, once each on /mutate and /validate');
      results.hostile = await hostilePhase(hook);
      const slow = results.hostile.filter((r) => !r.ok);
      log(`  -> slowest ${f1(Math.max(...results.hostile.map((r) => r.ms)))} ms; ${slow.length} over budget or wrong answer`);
      log(`hostile input again, under a steady ${opts.rate} reviews/s of the bench corpus on /mutate`);
      const loaded = await underLoad(hook.conns, mainRequests, opts.rate, () => hostilePhase(hook));
      results.hostileLoaded = loaded.result;
      const slowLoaded = loaded.result.filter((r) => !r.ok);
      log(`  -> slowest ${f1(Math.max(...loaded.result.map((r) => r.ms)))} ms; ${slowLoaded.length} over budget or wrong answer (${f1(loaded.load.seconds)} s under load)`);
    }
  } finally {
    for (const t of [echo, hook]) for (const c of t.conns ?? []) c.close();
    await Promise.all([stopChild(echoChild), stopChild(hookChild)]);
  }

  // `serve --workers N`: the same corpus and closed loop against 1 and 2 workers. The load generator
  // runs on the same cores, so with 2 workers on a 2-core machine the server and the client compete.
  if (opts.phases.has('workers')) {
    results.workers = [];
    for (const n of WORKER_COUNTS) {
      const port = await freePort();
      const child = await startWebhook(port, join(ROOT, 'policies'), certs, [], n);
      const target = { name: `workers=${n}`, port, ca, pid: child.pid, cpuMs: () => treeCpuMs(child.pid) };
      try {
        await waitReady(target, child); // with N > 1, ready once every worker is
        const requests = bodies.map((b) => requestBuffer('/mutate?timeout=10s', port, b));
        const conns = await openConns(target, opts.connections);
        try {
          let best;
          for (let round = 1; round <= opts.rounds; round++) {
            log(`--workers ${n}  round ${round}: ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s`);
            const r = await closedLoop(target, conns, requests, opts);
            log(`  -> ${f1(r.rps)} reviews/s, p99 ${f3(r.p99)} ms, server ${f1(r.serverCpuPct)}% CPU (all processes), client ${f1(r.clientCpuPct)}% CPU, errors ${r.errors}`);
            if (!best || r.rps > best.rps) best = r;
          }
          results.workers.push({ workers: n, ...best });
        } finally {
          for (const c of conns) c.close();
        }
      } finally {
        await stopChild(child);
      }
    }
  }

  // Cold start: spawn to the first /readyz 200 (polled every 2 ms), the median of START_RUNS.
  if (opts.phases.has('start')) {
    log(`start: ${START_RUNS} starts with the shipped policies, one after the other`);
    const times = await readyTimes(join(ROOT, 'policies'), certs, ca, START_RUNS);
    results.start = { shipped: { times, medianMs: medianOf(times) } };
    log(`  -> ready in ${times.map((t) => Math.round(t)).join(', ')} ms; median ${Math.round(medianOf(times))} ms`);
  }

  const manyDir = opts.phases.has('rss') || opts.phases.has('cluster-rss') || opts.phases.has('start') ? manyPoliciesDir(opts.policies) : undefined;
  if (opts.phases.has('start')) {
    log(`start: ${START_RUNS} starts with ${opts.policies} NamespacePolicies`);
    const times = await readyTimes(manyDir, certs, ca, START_RUNS);
    results.start.many = { policies: opts.policies, times, medianMs: medianOf(times) };
    log(`  -> ready in ${times.map((t) => Math.round(t)).join(', ')} ms; median ${Math.round(medianOf(times))} ms`);
  }

  // RSS with many NamespacePolicies, after load spread over their namespaces, as the image runs it.
  if (opts.phases.has('rss')) {
    const port = await freePort();
    const child = await startWebhook(port, manyDir, certs, IMAGE_NODE_ARGS);
    const target = { name: 'webhook', port, ca, pid: child.pid };
    const t0 = Date.now();
    try {
      await waitReady(target, child, 60_000);
      const startMs = Date.now() - t0;
      const idleRss = procStatus(child.pid);
      const manyEntries = spreadOver(entries.slice(0, corpusCount), opts.policies);
      // Instances of them too, as for the comparison (fewer with many namespaces: ~8,000 requests at most).
      const rssVariants = Math.max(1, Math.min(opts.variants, Math.ceil(8000 / manyEntries.length)));
      const manyStream = variantsOf(manyEntries, rssVariants);
      const many = bodiesOf(manyStream).map((b) => requestBuffer('/mutate?timeout=10s', port, b));
      const conns = await openConns(target, opts.connections);
      try {
        const mixMany = await verify(conns[0], many, manyStream, 'webhook(many)', manyEntries.length);
        log(`${opts.policies} policies (${IMAGE_NODE_ARGS.join(' ')}, offline): idle RSS ${f1(idleRss.rssMiB)} MiB; answers ${mixMany.patched} patched, ${mixMany.plain} plain, ${mixMany.denied} denied`);
        const loadSeconds = Math.min(opts.duration, 5);
        log(`RSS run: closed loop ${opts.connections} connections over ${many.length} bodies (${rssVariants} instances of ${manyEntries.length}) / ${opts.policies} namespaces for ${loadSeconds} s`);
        const load = await closedLoop(target, conns, many, { warmup: 0.5, duration: loadSeconds });
        const after = procStatus(child.pid);
        rss = { policies: opts.policies, startMs, idleMiB: idleRss.rssMiB, afterLoadMiB: after.rssMiB, peakMiB: after.hwmMiB, loadRps: load.rps, loadErrors: load.errors };
        log(`  -> ${f1(load.rps)} reviews/s during load; RSS ${f1(after.rssMiB)} MiB (peak ${f1(after.hwmMiB)} MiB)`);
      } finally {
        for (const c of conns) c.close();
      }
    } finally {
      await stopChild(child);
    }
  }

  // The same with a cluster view: informers on a small fake API server (test/bench/cluster-rss.mjs).
  if (opts.phases.has('cluster-rss')) {
    log(`RSS with a cluster view: ${opts.policies} NamespacePolicies, informers on a fake API server, ${IMAGE_NODE_ARGS.join(' ')}`);
    const out = await run([fileURLToPath(new URL('./cluster-rss.mjs', import.meta.url)), '--json', '--policies', String(opts.policies), '--policies-dir', manyDir,
      '--cert-dir', certs, `--node-args=${[...WEBHOOK_NODE_ARGS, ...IMAGE_NODE_ARGS].join(' ')}`], 'cluster-rss');
    results.clusterRss = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? 'null');
    log(`  -> RSS ${f1(results.clusterRss.rssMiB)} MiB (peak ${f1(results.clusterRss.peakMiB)} MiB), informers synced: ${results.clusterRss.synced}`);
  }

  if (opts.phases.has('audit')) {
    log(`audit: ${AUDIT_OBJECTS} GPU Deployments in one file, -o json`);
    results.audit = await auditPhase();
    log(`  -> ${results.audit.objects} objects in ${f2(results.audit.seconds)} s`);
  }

  // Report
  const best = (list, key) => (list.length ? list.reduce((x, y) => (y[key] > x[key] ? y : x)) : undefined);
  const lowest = (list, key) => (list.length ? list.reduce((x, y) => (y[key] < x[key] ? y : x)) : undefined);
  const median = (list, key) => medianOf(list.map((r) => r[key]));
  for (const c of comparisons) {
    c.bestEcho = best(c.echo, 'rps');
    c.bestHook = best(c.hook, 'rps');
    c.ratio = c.bestEcho && c.bestHook ? c.bestHook.rps / c.bestEcho.rps : NaN;
    // Server CPU per review is far less sensitive to other load on the machine than reviews/s.
    c.cpuRatio = median(c.echo, 'serverCpuUsPerReview') / median(c.hook, 'serverCpuUsPerReview');
  }
  const oe = lowest(results.open.echo, 'p99');
  const om = lowest(results.open.hook, 'p99');
  const p99Ratio = om && oe ? om.p99 / oe.p99 : NaN;
  // The distinct runs are informational: their errors are shown on their line, not counted here.
  const errors = [...budgeted.flatMap((c) => [...c.echo, ...c.hook]), ...results.open.echo, ...results.open.hook, ...(results.workers ?? [])].reduce((n, r) => n + r.errors, 0) + (rss?.loadErrors ?? 0);

  console.log('');
  if (comparisons[0].hook.length) {
    console.log(`closed loop, ${opts.connections} keep-alive connections, ${opts.duration} s per round (* = best of ${opts.rounds}); baseline: ${opts.echoMode === 'ack' ? 'bare `allowed`' : 'literal echo'}:`);
    console.log(`  ${padr('server', 24)}${pad('reviews/s', 11)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('srv us/rev', 12)}${pad('main us/rev', 13)}${pad('srv CPU%', 10)}${pad('cli CPU%', 10)}${pad('errors', 8)}`);
    const row = (label, r, mark) => console.log(`${mark ? '*' : ' '} ${padr(label, 24)}${pad(f1(r.rps), 11)}${pad(f3(r.p50), 9)}${pad(f3(r.p99), 9)}${pad(f2(r.max), 9)}${pad(f1(r.serverCpuUsPerReview), 12)}${pad(f1(r.serverMainUsPerReview), 13)}${pad(f1(r.serverCpuPct), 10)}${pad(f1(r.clientCpuPct), 10)}${pad(r.errors, 8)}`);
    const shownEcho = new Set();
    for (const c of comparisons) {
      for (const [i, r] of c.echo.entries()) if (!shownEcho.has(r)) { shownEcho.add(r); row(`echo ${c.corpus}#${i + 1}`, r, r === c.bestEcho); }
      for (const [i, r] of c.hook.entries()) row(`${c.label}#${i + 1}`, r, r === c.bestHook);
    }
  }
  if (oe && om) {
    console.log(`open loop, /mutate, ${opts.rate} reviews/s, latency from the intended send time; svc = from the actual send, lag = actual - intended send (* = lowest p99 of ${opts.rounds}):`);
    console.log(`  ${padr('server', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('svc p50', 9)}${pad('svc p99', 9)}${pad('lag p99', 9)}${pad('achieved', 10)}${pad('max queue', 11)}${pad('srv CPU%', 10)}${pad('errors', 8)}`);
    for (const [name, list] of [['echo', results.open.echo], ['webhook', results.open.hook]]) {
      for (const [i, r] of list.entries()) {
        const mark = r === oe || r === om ? '*' : ' ';
        console.log(`${mark} ${padr(`${name}#${i + 1}`, 9)}${pad(f3(r.p50), 9)}${pad(f3(r.p99), 9)}${pad(f2(r.max), 9)}${pad(f3(r.serviceP50), 9)}${pad(f3(r.serviceP99), 9)}${pad(f3(r.lagP99), 9)}${pad(f1(r.achieved), 10)}${pad(r.maxQueue, 11)}${pad(f1(r.serverCpuPct), 10)}${pad(r.errors, 8)}`);
      }
    }
  }
  if (results.workers?.length) {
    const one = results.workers.find((w) => w.workers === 1);
    console.log(`serve --workers N, closed loop, ${opts.connections} connections, /mutate, best of ${opts.rounds}; ${availableParallelism()} CPUs shared with the load generator:`);
    console.log(`  ${padr('workers', 9)}${pad('reviews/s', 11)}${pad('x 1 wkr', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('srv us/rev', 12)}${pad('srv CPU%', 10)}${pad('cli CPU%', 10)}${pad('errors', 8)}`);
    for (const w of results.workers) {
      console.log(`  ${padr(w.workers, 9)}${pad(f1(w.rps), 11)}${pad(f2(one ? w.rps / one.rps : NaN), 9)}${pad(f3(w.p50), 9)}${pad(f3(w.p99), 9)}${pad(f1(w.serverCpuUsPerReview), 12)}${pad(f1(w.serverCpuPct), 10)}${pad(f1(w.clientCpuPct), 10)}${pad(w.errors, 8)}`);
    }
  }
  const verdict = (ok) => (ok === undefined ? 'skipped' : ok ? 'ok' : 'MISSED');
  const checks = {
    ...Object.fromEntries(budgeted.map((c) => [`throughput ${c.label}`, c.bestEcho && c.bestHook ? c.ratio >= BUDGET.throughputRatio : undefined])),
    p99Ratio: oe && om ? p99Ratio <= BUDGET.p99Ratio : undefined,
    readyShipped: results.start ? results.start.shipped.medianMs < READY_BUDGET_MS.shipped : undefined,
    readyMany: results.start?.many ? results.start.many.medianMs < READY_BUDGET_MS.many : undefined,
    rss: rss ? rss.afterLoadMiB < BUDGET.rssMiB && rss.peakMiB < BUDGET.rssMiB : undefined,
    clusterRss: results.clusterRss ? results.clusterRss.synced && results.clusterRss.rssMiB < BUDGET.rssMiB && results.clusterRss.peakMiB < BUDGET.rssMiB : undefined,
    errors: errors === 0,
    hostile: results.hostile ? results.hostile.every((r) => r.ok) : undefined,
    hostileLoaded: results.hostileLoaded ? results.hostileLoaded.every((r) => r.ok) : undefined,
    audit: results.audit ? results.audit.ok : undefined,
  };
  console.log('');
  console.log(`budgets (baseline: ${opts.echoMode === 'ack' ? 'bare fastify HTTPS server answering `allowed`' : 'literal echo'}):`);
  for (const c of budgeted) {
    console.log(`  closed-loop reviews/s ${padr(c.label, 18)} ${f1(c.bestHook?.rps)} / ${f1(c.bestEcho?.rps)} = ${f3(c.ratio)}  (>= ${BUDGET.throughputRatio})  ${verdict(checks[`throughput ${c.label}`])}` +
      `   [server CPU/review baseline/webhook, median: ${f3(c.cpuRatio)}]`);
  }
  for (const c of distinct) {
    const errs = [...c.echo, ...c.hook].reduce((n, r) => n + r.errors, 0);
    console.log(`  closed-loop reviews/s ${padr(c.label, 18)} ${f1(c.bestHook?.rps)} / ${f1(c.bestEcho?.rps)} = ${f3(c.ratio)}  (no review repeats: every answer computed; informational)` +
      `   [server CPU/review baseline/webhook, median: ${f3(c.cpuRatio)}]${errs ? `  ${errs} request errors` : ''}`);
  }
  console.log(`  open-loop p99 at ${opts.rate}/s /mutate     ${f3(om?.p99)} / ${f3(oe?.p99)} ms = ${f3(p99Ratio)}  (<= ${BUDGET.p99Ratio})  ${verdict(checks.p99Ratio)}`);
  console.log(`  ready, shipped policies          median ${f1(results.start?.shipped.medianMs)} ms  (< ${READY_BUDGET_MS.shipped} ms)  ${verdict(checks.readyShipped)}`);
  console.log(`  ready, ${opts.policies} NamespacePolicies     median ${f1(results.start?.many?.medianMs)} ms  (< ${READY_BUDGET_MS.many} ms)  ${verdict(checks.readyMany)}`);
  console.log(`  RSS, ${opts.policies} NamespacePolicies, offline       ${f1(rss?.afterLoadMiB)} MiB after load, peak ${f1(rss?.peakMiB)} MiB  (< ${BUDGET.rssMiB} MiB)  ${verdict(checks.rss)}` +
    `   [shipped policies, after the comparison, default heap: ${f1(baseRss?.rssMiB)} MiB]`);
  console.log(`  RSS, ${opts.policies} NamespacePolicies, cluster view  ${f1(results.clusterRss?.rssMiB)} MiB after load, peak ${f1(results.clusterRss?.peakMiB)} MiB  (< ${BUDGET.rssMiB} MiB)  ${verdict(checks.clusterRss)}`);
  console.log(`  request errors                      ${errors}  ${verdict(checks.errors)}`);
  for (const [name, rows, key] of [['hostile input', results.hostile, 'hostile'], [`hostile input under ${opts.rate}/s`, results.hostileLoaded, 'hostileLoaded']]) {
    if (!rows) { console.log(`  ${padr(name, 34)}${verdict(undefined)}`); continue; }
    const worst = rows.reduce((x, y) => (y.ms / y.budgetMs > x.ms / x.budgetMs ? y : x));
    console.log(`  ${name}, each answer in budget: ${f1(worst.ms)} ms of ${worst.budgetMs} ms at worst (${worst.label})  ${verdict(checks[key])}`);
    for (const r of rows.filter((x) => !x.ok)) console.log(`    MISSED ${r.label}: ${r.error ?? `HTTP ${r.status} (expected ${r.expected})`} in ${f1(r.ms)} ms (budget ${r.budgetMs} ms)`);
  }
  console.log(`  audit of ${AUDIT_OBJECTS} objects              ${results.audit ? `${results.audit.objects} objects in ${f2(results.audit.seconds)} s` : '-'}  (< ${AUDIT_SECONDS} s)  ${verdict(checks.audit)}`);
  const closedRow = (r) => r && ({ rps: round(r.rps, 1), p50Ms: round(r.p50, 3), p99Ms: round(r.p99, 3), serverCpuUsPerReview: round(r.serverCpuUsPerReview, 1) });
  const openRow = (r) => r && ({ p50Ms: round(r.p50, 3), p99Ms: round(r.p99, 3), serviceP99Ms: round(r.serviceP99, 3), sendLagP99Ms: round(r.lagP99, 3) });
  const hostileRows = (rows) => {
    if (!rows) return undefined;
    const worst = rows.reduce((x, y) => (y.ms / y.budgetMs > x.ms / x.budgetMs ? y : x));
    const brief = (r) => ({ label: r.label, status: r.status, ms: round(r.ms, 1), budgetMs: r.budgetMs, ok: r.ok });
    return { cases: rows.length, worst: brief(worst), missed: rows.filter((r) => !r.ok).map(brief), ok: rows.every((r) => r.ok) };
  };
  const summary = {
    bench: 'gpu-admission', node: process.version,
    options: { ...opts, phases: [...opts.phases] },
    corpus: { reviews: entries.length, captured: corpusCount, variants: opts.variants, streamRequests: bodies.length, answers: results.mix },
    closed: comparisons[0].hook.length ? budgeted.map((c) => ({
      endpoint: c.path, corpus: c.corpus, connections: opts.connections, variants: opts.variants, baseline: closedRow(c.bestEcho), webhook: closedRow(c.bestHook),
      ratio: round(c.ratio, 3), cpuRatio: round(c.cpuRatio, 3), budget: BUDGET.throughputRatio, ok: checks[`throughput ${c.label}`],
    })) : null,
    // No review's content repeats (a unique annotation per send): informational, not a budget.
    closedDistinct: distinct[0]?.hook.length ? distinct.map((c) => ({
      endpoint: c.path, corpus: 'bench', stream: 'distinct', connections: opts.connections, baseline: closedRow(c.bestEcho), webhook: closedRow(c.bestHook),
      ratio: round(c.ratio, 3), cpuRatio: round(c.cpuRatio, 3), errors: [...c.echo, ...c.hook].reduce((n, r) => n + r.errors, 0), informational: true,
    })) : null,
    open: oe && om ? { rate: opts.rate, echo: openRow(oe), mutate: openRow(om), p99Ratio: round(p99Ratio, 3), budget: BUDGET.p99Ratio, ok: checks.p99Ratio } : null,
    start: results.start ? {
      shipped: { medianMs: round(results.start.shipped.medianMs, 1), runsMs: results.start.shipped.times.map((t) => round(t, 1)), budgetMs: READY_BUDGET_MS.shipped, ok: checks.readyShipped },
      many: { policies: opts.policies, medianMs: round(results.start.many.medianMs, 1), runsMs: results.start.many.times.map((t) => round(t, 1)), budgetMs: READY_BUDGET_MS.many, ok: checks.readyMany },
    } : null,
    rss: rss ? { ...Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, round(v, 1)])), nodeArgs: IMAGE_NODE_ARGS, shippedPoliciesMiB: round(baseRss?.rssMiB, 1), budgetMiB: BUDGET.rssMiB, ok: checks.rss } : null,
    clusterRss: results.clusterRss ? { ...results.clusterRss, rssMiB: round(results.clusterRss.rssMiB, 1), peakMiB: round(results.clusterRss.peakMiB, 1), policies: opts.policies, nodeArgs: IMAGE_NODE_ARGS, budgetMiB: BUDGET.rssMiB, ok: checks.clusterRss } : null,
    errors,
    hostile: hostileRows(results.hostile) ?? null,
    hostileUnderLoad: hostileRows(results.hostileLoaded) ?? null,
    audit: results.audit ? { objects: results.audit.objects, seconds: round(results.audit.seconds, 2), budgetSeconds: AUDIT_SECONDS, ok: checks.audit } : null,
    workers: results.workers?.length ? { cpus: availableParallelism(), runs: results.workers.map((w) => ({ workers: w.workers, ...closedRow(w), serverCpuPct: round(w.serverCpuPct, 1), clientCpuPct: round(w.clientCpuPct, 1) })) } : null,
    ok: Object.values(checks).every((ok) => ok !== false),
    seconds: round((Date.now() - began) / 1000, 1),
  };
  console.log(JSON.stringify(summary));
  cleanupSync();
  process.exitCode = opts.strict && !summary.ok ? 1 : 0;
}

/**
 * The captured CREATE reviews and the synthesized ones, spread over the namespaces ns-0 ..
 * ns-(namespaces-1): `count` reviews, and at least one of each namespace and of each template.
 */
function spreadOver(captured, namespaces, count = namespaces) {
  const templates = [...captured.filter((e) => e.review.request.operation === 'CREATE'), ...synthesizedReviews()];
  const out = [];
  for (let i = 0; i < Math.max(count, namespaces, templates.length); i++) {
    const r = setNamespace(structuredClone(templates[i % templates.length].review), `ns-${i % namespaces}`);
    r.request.uid = randomUUID();
    out.push({ label: `${templates[i % templates.length].label}@ns-${i % namespaces}`, review: r });
  }
  return out;
}

function round(n, digits) {
  return Number.isFinite(n) ? Number(n.toFixed(digits)) : null;
}

export { buildCorpus, variantsOf, instanceOf, deniedCorpus, procStatus, spreadOver, synthesizedReviews, manyPoliciesDir, policyDoc, Conn, requestBuffer, sendOnce, freePort };

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--echo-server') await echoServer();
  else {
    await main().catch((err) => {
      console.error(`bench: ${err?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? err.message : err?.stack ?? err}`);
      cleanupSync();
      process.exit(2);
    });
  }
}
