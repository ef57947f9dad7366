/**
 * `serve --workers N`: N processes share the review port (node:cluster). The primary accepts the
 * connections and hands them to the workers in turn (cluster's round-robin scheduling, the default
 * everywhere but Windows: https://nodejs.org/api/cluster.html#how-it-works); every worker runs the
 * whole webhook of serve.ts: its own policy watch (a bad change keeps that worker's last good set,
 * as with one process), its own certificate watch, its own cluster view when there is one.
 *
 * The primary holds no policies and judges nothing. It serves --health-port (/healthz, /readyz of the
 * whole set, /metrics aggregated over the workers by prom-client's AggregatorRegistry), answers the
 * workers' /metrics and /readyz on the review port with the same aggregate, forwards SIGHUP,
 * restarts a worker that dies (with backoff) and, on SIGTERM/SIGINT, drains every worker and exits
 * after the last one.
 */
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry, type RegistryContentType } from 'prom-client';
import { Metrics } from './metrics.js';

/** Environment variable that tells a forked process which slot (0..N-1) it fills. */
export const SLOT_ENV = 'GPU_ADMISSION_WORKER_SLOT';
/**
 * Memory the default worker count sets aside under a memory limit: the primary (~85 MiB RSS: it
 * loads the CLI) and each worker (~100 MiB idle with the shipped policies, more under load and
 * with many policies; measured with `ps` on Node.js 22).
 */
export const PRIMARY_MIB = 96;
export const MIB_PER_WORKER = 128;

type Msg =
  | { type: 'gpa:ready'; ready: boolean }
  | { type: 'gpa:cluster'; ready: boolean; listening: number; of: number }
  | { type: 'gpa:metrics-req'; id: number }
  | { type: 'gpa:metrics-res'; id: number; text?: string; error?: string };

const isMsg = (m: unknown): m is Msg => typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('gpa:');

// ---------------------------------------------------------------------------------------------
// How many workers by default
// ---------------------------------------------------------------------------------------------

/** CPU and memory limits of this process's cgroup (v2, else v1); undefined where there is none. */
export interface CgroupLimits {
  cpus?: number;
  memoryBytes?: number;
}

/**
 * Reads the CPU quota (cpu.max, or cpu.cfs_quota_us / cpu.cfs_period_us) and the memory limit
 * (memory.max, or memory.limit_in_bytes) of this process's cgroup. Node.js 22 bundles libuv 1.46,
 * whose uv_available_parallelism() counts the CPU affinity mask only; the cgroup quota is taken
 * into account from libuv 1.49.1 (https://github.com/libuv/libuv/issues/4740), so it is read here.
 * A fractional quota is rounded down (at least 1), as libuv does.
 */
export function cgroupLimits(root = '/sys/fs/cgroup', procCgroup = '/proc/self/cgroup'): CgroupLimits {
  const read = (file: string): string | undefined => {
    try { return readFileSync(file, 'utf8').trim(); } catch { return undefined; }
  };
  const lines = (read(procCgroup) ?? '').split('\n');
  const pathOf = (controller: string): string => {
    for (const l of lines) {
      const [, list, path] = l.split(':');
      if (list !== undefined && path !== undefined && (controller === '' ? list === '' : list.split(',').includes(controller))) return path;
    }
    return '/';
  };
  // Inside a container the cgroup namespace makes its own cgroup the root; else it sits at the path.
  const candidates = (base: string, path: string, file: string): string[] => [...new Set([`${base}${path === '/' ? '' : path}/${file}`, `${base}/${file}`])];
  const first = (files: string[]): string | undefined => {
    for (const f of files) {
      const v = read(f);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const out: CgroupLimits = {};
  const v2 = pathOf('');
  const cpuMax = first(candidates(root, v2, 'cpu.max'));
  if (cpuMax !== undefined) {
    const [quota, period] = cpuMax.split(/\s+/);
    if (quota !== 'max' && Number(quota) > 0 && Number(period) > 0) out.cpus = Math.max(1, Math.floor(Number(quota) / Number(period)));
  } else {
    const base = `${root}/cpu`;
    const quota = Number(first(candidates(base, pathOf('cpu'), 'cpu.cfs_quota_us')));
    const period = Number(first(candidates(base, pathOf('cpu'), 'cpu.cfs_period_us')));
    if (quota > 0 && period > 0) out.cpus = Math.max(1, Math.floor(quota / period));
  }
  const memMax = first(candidates(root, v2, 'memory.max')) ?? first(candidates(`${root}/memory`, pathOf('memory'), 'memory.limit_in_bytes'));
  // cgroup v1 reports "no limit" as a page-rounded 2^63-1.
  if (memMax !== undefined && memMax !== 'max' && Number(memMax) > 0 && Number(memMax) < 2 ** 62) out.memoryBytes = Number(memMax);
  return out;
}

/**
 * The default of --workers: 1 with a cluster view (every worker would run its own informers: N
 * watches per resource on the API server and N caches in memory), else the CPUs the container may
 * use (the cgroup quota, else the CPUs of the affinity mask), at most as many as a memory limit holds
 * (a Pod without a CPU limit on a 64-core node must not fork 64 workers into 256 MiB).
 */
export function defaultWorkers(o: { clusterView: boolean; limits?: CgroupLimits; parallelism?: number }): { workers: number; reason: string } {
  if (o.clusterView) return { workers: 1, reason: 'a cluster view is on (each worker would run its own informers); --workers N to use more' };
  const limits = o.limits ?? cgroupLimits();
  const parallelism = o.parallelism ?? availableParallelism();
  const cpus = Math.min(parallelism, limits.cpus ?? parallelism);
  const byMemory = limits.memoryBytes === undefined ? Infinity : Math.max(1, Math.floor((limits.memoryBytes / 1048576 - PRIMARY_MIB) / MIB_PER_WORKER));
  const workers = Math.max(1, Math.min(cpus, byMemory));
  const why = [`${cpus} CPU${cpus === 1 ? '' : 's'} (${limits.cpus !== undefined ? 'cgroup quota' : 'available parallelism'})`];
  if (byMemory < cpus) why.push(`memory limit ${Math.round((limits.memoryBytes ?? 0) / 1048576)} MiB: ${PRIMARY_MIB} MiB for the primary and ${MIB_PER_WORKER} MiB per worker`);
  return { workers, reason: why.join(', ') };
}

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

type Readiness = () => { ready: boolean; details: Record<string, unknown> };

/** What serve.ts needs in a worker: metrics that aggregate over the set, and readiness of the set. */
export interface WorkerLink {
  slot: number;
  metrics(): Metrics;
  readiness(own: Readiness): Readiness;
}

/** The worker's side of the primary; undefined when this process is not a worker of `serve --workers`. */
export function workerLink(): WorkerLink | undefined {
  if (!cluster.isWorker || process.env[SLOT_ENV] === undefined) return undefined;
  const slot = Number(process.env[SLOT_ENV]);
  let setReady = { ready: false, listening: 0, of: 0 };
  let nextId = 0;
  const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    if (m.type === 'gpa:cluster') setReady = { ready: m.ready, listening: m.listening, of: m.of };
    if (m.type === 'gpa:metrics-res') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (p) m.text !== undefined ? p.resolve(m.text) : p.reject(new Error(m.error ?? 'no metrics'));
    }
  });
  const send = (m: Msg): void => {
    if (process.connected) process.send?.(m);
  };
  return {
    slot,
    metrics() {
      const metrics = new Metrics();
      // The primary's AggregatorRegistry asks every worker for this registry (prom-client answers
      // in the worker once an AggregatorRegistry exists there).
      AggregatorRegistry.setRegistries([metrics.registry]);
      new AggregatorRegistry();
      // /metrics on the review port answers with the whole set's aggregate, as --health-port does.
      metrics.text = () => new Promise<string>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => { pending.delete(id); reject(new Error('the primary did not answer with the metrics')); }, 6000);
        pending.set(id, { resolve: (t) => { clearTimeout(timer); resolve(t); }, reject: (e) => { clearTimeout(timer); reject(e); } });
        send({ type: 'gpa:metrics-req', id });
      });
      return metrics;
    },
    readiness(own) {
      let last: boolean | undefined;
      const report = (): void => {
        const { ready } = own();
        if (ready !== last) send({ type: 'gpa:ready', ready });
        last = ready;
      };
      const timer = setInterval(report, 250);
      timer.unref();
      report();
      return () => {
        const o = own();
        return {
          ready: o.ready && setReady.ready,
          details: { ...o.details, worker: { slot, pid: process.pid }, workers: { ready: setReady.ready, listening: setReady.listening, of: setReady.of } },
        };
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Primary side
// ---------------------------------------------------------------------------------------------

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  host: string;
  healthPort?: number;
  /** The workers' drain time: --shutdown-delay + --shutdown-timeout (s); they are killed after it and a margin. */
  drainSeconds: number;
  /** A worker that lived this long before dying starts its backoff again from the shortest delay. */
  stableMs?: number;
}

interface Slot {
  index: number;
  worker?: Worker;
  listening: boolean;
  ready: boolean;
  startedAt: number;
  failures: number;
  restart?: NodeJS.Timeout;
}

/** Backoff before restarting a worker that died, after `failures` deaths in a row: 0.5 s doubling to 30 s. */
export function restartDelayMs(failures: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, failures - 1));
}

/**
 * Runs the primary: forks the workers (the same argv, the slot in SLOT_ENV), and resolves with the
 * exit code once it has stopped: 0 after a drain in which every worker exited cleanly; 1 when a
 * worker failed before every worker was listening once (a port in use, an unreadable certificate:
 * the same error N times would help nobody), or did not exit cleanly while draining.
 */
export async function runPrimary(o: PrimaryOptions): Promise<number> {
  const { logger } = o;
  const stableMs = o.stableMs ?? 30_000;
  const slots: Slot[] = Array.from({ length: o.workers }, (_, index) => ({ index, listening: false, ready: false, startedAt: 0, failures: 0 }));
  const bySlot = new Map<Worker, Slot>();
  const aggregator = new AggregatorRegistry();
  let everReady = false;
  // Every worker listened once: from then on a dying worker is restarted; before, its failure
  // (a port in use, an unreadable certificate) is the same for every worker and stops the primary.
  let started = false;
  let stopping = false;
  let lastBroadcast = '';
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));
  let exitCode = 0;

  const state = (): { ready: boolean; listening: number; of: number } => {
    const listening = slots.filter((s) => s.worker && s.listening).length;
    // At start every worker must be ready once; afterwards every worker that gets connections (a
    // listening one) must be ready, and a dead worker being restarted does not hold the rest back.
    const ready = !stopping && (everReady ? listening > 0 && slots.every((s) => !(s.worker && s.listening) || s.ready) : slots.every((s) => s.listening && s.ready));
    return { ready, listening, of: o.workers };
  };
  const broadcast = (force = false): void => {
    const s = state();
    if (s.ready && !everReady) {
      everReady = true;
      logger.info({ event: 'workers-ready', workers: o.workers, pids: slots.map((x) => x.worker?.process.pid) }, `${o.workers} workers ready`);
    }
    const key = JSON.stringify(s);
    if (!force && key === lastBroadcast) return;
    lastBroadcast = key;
    for (const slot of slots) if (slot.worker?.isConnected()) slot.worker.send({ type: 'gpa:cluster', ...s } satisfies Msg);
  };

  const fork = (slot: Slot): void => {
    slot.restart = undefined;
    const worker = cluster.fork({ [SLOT_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.listening = false;
    slot.ready = false;
    slot.startedAt = Date.now();
    bySlot.set(worker, slot);
    logger.info({ event: 'worker-started', worker: slot.index, pid: worker.process.pid }, `worker ${slot.index} started (pid ${worker.process.pid})`);
  };

  cluster.on('listening', (worker) => {
    const slot = bySlot.get(worker);
    if (!slot) return;
    slot.listening = true;
    if (slots.every((s) => s.listening)) started = true;
    broadcast(true);
  });
  cluster.on('message', (worker, m: unknown) => {
    const slot = bySlot.get(worker);
    if (!slot || !isMsg(m)) return;
    if (m.type === 'gpa:ready') {
      slot.ready = m.ready;
      broadcast();
    }
    if (m.type === 'gpa:metrics-req') {
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: 'gpa:metrics-res', id: m.id, text } satisfies Msg),
        (err: Error) => worker.isConnected() && worker.send({ type: 'gpa:metrics-res', id: m.id, error: err.message } satisfies Msg),
      );
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    const slot = bySlot.get(worker);
    if (!slot) return;
    bySlot.delete(worker);
    slot.worker = undefined;
    slot.listening = false;
    slot.ready = false;
    const fields = { worker: slot.index, pid: worker.process.pid, code, signal };
    if (stopping) {
      if (code !== 0) exitCode = 1;
      logger.info({ event: 'worker-stopped', ...fields }, `worker ${slot.index} stopped`);
      if (slots.every((s) => !s.worker)) resolveDone(exitCode);
      return;
    }
    if (!started) {
      logger.error({ event: 'worker-failed', ...fields }, `worker ${slot.index} exited (${signal ?? code}) before every worker was listening; stopping`);
      exitCode = 1;
      void stop();
      return;
    }
    slot.failures = Date.now() - slot.startedAt >= stableMs ? 1 : slot.failures + 1;
    const delay = restartDelayMs(slot.failures);
    const crashLoop = slot.failures >= 3;
    logger.error({ event: crashLoop ? 'worker-crash-loop' : 'worker-exited', ...fields, failures: slot.failures, restartInMs: delay },
      crashLoop ? `worker ${slot.index} keeps dying (${slot.failures} times in a row); restarting in ${delay} ms` : `worker ${slot.index} exited (${signal ?? code}); restarting in ${delay} ms`);
    slot.restart = setTimeout(() => fork(slot), delay);
    broadcast();
  });

  const health = o.healthPort === undefined ? undefined : await listenPrimaryHealth(o.host, o.healthPort, () => {
    const s = state();
    return {
      ready: s.ready,
      details: { shuttingDown: stopping, workers: { ...s, slots: slots.map((x) => ({ slot: x.index, pid: x.worker?.process.pid, listening: x.listening, ready: x.ready, restarts: x.failures })) } },
    };
  }, aggregator, logger);

  let stopping$: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping$ ??= (async () => {
    stopping = true;
    broadcast();
    logger.info({ event: 'shutdown', workers: slots.filter((s) => s.worker).length }, 'draining the workers');
    for (const s of slots) {
      clearTimeout(s.restart);
      // SIGTERM runs the worker's own drain (not ready, --shutdown-delay, close, in-flight finish).
      s.worker?.process.kill('SIGTERM');
    }
    if (slots.every((s) => !s.worker)) resolveDone(exitCode);
    const kill = setTimeout(() => {
      for (const s of slots) {
        if (!s.worker) continue;
        logger.warn({ event: 'worker-kill', worker: s.index, pid: s.worker.process.pid }, `worker ${s.index} did not stop in time; killing it`);
        exitCode = 1;
        s.worker.process.kill('SIGKILL');
      }
    }, (o.drainSeconds + 5) * 1000);
    kill.unref();
    await done;
    clearTimeout(kill);
    await health?.close();
  })());

  process.on('SIGHUP', () => {
    logger.info({ event: 'signal', signal: 'SIGHUP' }, 'SIGHUP: every worker reloads its policies');
    for (const s of slots) s.worker?.process.kill('SIGHUP');
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      logger.info({ event: 'signal', signal }, `received ${signal}`);
      void stop();
    });
  }

  logger.info({ event: 'workers', workers: o.workers, pid: process.pid }, `starting ${o.workers} workers`);
  for (const s of slots) fork(s);
  const code = await done;
  await stop();
  logger.info({ event: 'stopped', code }, 'stopped');
  return code;
}

/** --health-port in the primary: /healthz (the primary is alive), /readyz of the set, /metrics aggregated. */
async function listenPrimaryHealth(host: string, port: number, readiness: Readiness, aggregator: AggregatorRegistry<RegistryContentType>, logger: Logger): Promise<{ close(): Promise<void> }> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, details } = readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...details });
  });
  app.get('/metrics', async (_request, reply) => reply.type(Registry.PROMETHEUS_CONTENT_TYPE).send(await aggregator.clusterMetrics()));
  await app.listen({ host, port });
  const address = app.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  logger.info({ event: 'health-listening', host, port: actual }, `health and metrics of the workers on http://${host}:${actual} (/healthz, /readyz, /metrics)`);
  return { close: () => app.close() };
}
