import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { PolicyStore } from './policy-store.js';
import { buildApp } from './app.js';
import { TlsWatcher } from './tls-reload.js';
import Fastify from 'fastify';
import { BODY_LIMIT, registerHealth, type Limits } from './app.js';
import { Metrics } from './metrics.js';
import type { WorkerLink } from './workers.js';
import { connectCluster, missingDefaultClasses, namespaceReader, poolMembership, type ClusterLink } from '../cluster/connect.js';

export interface ServeOptions {
  policies: string;
  host: string;
  port: number;
  cert?: string;
  key?: string;
  /** Directory a self-signed development certificate is generated into when cert/key are absent. */
  certDir: string;
  acceleratorResources: string[];
  /** Seconds to keep answering after SIGTERM while /readyz reports not ready. */
  shutdownDelay: number;
  /** Seconds in-flight reviews get to finish once the listener closes. */
  shutdownTimeout?: number;
  /** Warn when the certificate expires within this many days. */
  certWarnDays?: number;
  /** CA bundle to verify the API server's client certificate against (mutual TLS on the review port). */
  clientCa?: string;
  /** Plaintext port for /healthz, /readyz and /metrics (kubelet probes, Prometheus); off when undefined. */
  healthPort?: number;
  /** Seconds a client has to send a whole request, body included (default 10). */
  requestTimeout?: number;
  /** Bytes of request bodies held in flight across connections (default 64 MiB). */
  maxInflightBytes?: number;
  /** Open connections on the review port (default 1000). */
  maxConnections?: number;
  /** Answers the review memo keeps per endpoint (admission/memo.ts; default 1024, 0: off). */
  reviewMemo?: number;
  /** Judge from policy files only, without watching the cluster. */
  offline?: boolean;
  kubeconfig?: string;
  logger: Logger;
  /** Set in a worker of `serve --workers N` (workers.ts): metrics and readiness of the whole set. */
  worker?: WorkerLink;
}

export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string;
  generated: boolean;
}

/** Uses the given certificate, else one generated earlier into certDir, else generates it. */
export async function ensureTls(o: Pick<ServeOptions, 'cert' | 'key' | 'certDir' | 'logger'>): Promise<TlsFiles> {
  if (o.cert || o.key) {
    if (!o.cert || !o.key) throw new Error('--cert and --key must be given together');
    return { cert: o.cert, key: o.key, generated: false };
  }
  const dir = resolve(o.certDir);
  const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') };
  if (existsSync(files.cert) && existsSync(files.key) && existsSync(files.ca)) return { ...files, generated: false };
  await mkdir(dir, { recursive: true });
  // Loaded only when a certificate must be generated: the generator costs ~90 ms of start-up.
  const { generateCerts, pemChain } = await import('../certs/generate.js');
  const b = await generateCerts({ service: 'gpu-admission', namespace: 'gpu-admission', extraNames: ['localhost', '127.0.0.1', '::1'] });
  await writeFile(files.ca, b.caCert);
  await writeFile(files.cert, pemChain(b.cert, b.caCert));
  await writeFile(files.key, b.key, { mode: 0o600 });
  o.logger.info({ event: 'certificate-generated', dir }, 'generated a self-signed development certificate');
  return { ...files, generated: true };
}

/** Starts the webhook; returns the graceful stop. The only place with process side effects. */
export async function serve(o: ServeOptions): Promise<() => Promise<void>> {
  const { logger } = o;
  const metrics = o.worker?.metrics() ?? new Metrics();
  const cluster = await connectCluster({ offline: o.offline ?? false, kubeconfig: o.kubeconfig, logger });
  const store = new PolicyStore({
    dir: o.policies, logger, extraAccelerators: o.acceleratorResources, cluster: cluster.cache,
    onReload: (ok, status) => {
      metrics.reloads.inc({ result: ok ? 'success' : 'failure' });
      metrics.generation.set(status.reloads);
      metrics.lastReloadFailed.set(ok ? 0 : 1);
    },
  });
  await store.reload('start');
  const missingClasses = watchMissingClasses(store, cluster, logger);
  store.watch();
  const tls = await ensureTls(o);
  let applyTls: (m: { cert: Buffer; key: Buffer }) => void = () => undefined;
  const certs = new TlsWatcher({ certFile: tls.cert, keyFile: tls.key, logger, warnDays: o.certWarnDays ?? 30, apply: (m) => {
    applyTls(m);
    metrics.certExpiry.set(Math.floor(m.notAfter.getTime() / 1000));
  } });
  const material = await certs.load();
  metrics.certExpiry.set(Math.floor(material.notAfter.getTime() / 1000));
  const cache = cluster.cache;
  if (cache) metrics.watchSync(() => ({ resources: WATCHED, synced: cache.synced }));
  const clientCa = o.clientCa ? await readFile(o.clientCa) : undefined;

  let shuttingDown = false;
  const own = (): { ready: boolean; details: Record<string, unknown> } => ({
    ready: !shuttingDown && store.status.loaded,
    details: {
      shuttingDown,
      policies: store.status,
      tls: { file: tls.cert, notAfter: certs.current?.notAfter.toISOString(), clientCertificates: clientCa ? 'required' : 'not checked' },
      cluster: { mode: cluster.mode, source: cluster.source, synced: [...(cluster.cache?.synced ?? [])].sort(), missingPriorityClasses: missingDefaultClasses(store.policies, cluster.cache), nodesPerPool: poolMembership(store.policies, cluster.cache) },
    },
  });
  const readiness = o.worker ? o.worker.readiness(own) : own;
  const app = buildApp({
    logger,
    metrics,
    engine: () => store.engine,
    readiness,
    beforeReview: namespaceReader(cluster, logger),
    memoEntries: o.reviewMemo ?? 1024,
    ...(cache ? { stateVersion: () => cache.stateVersion } : {}),
    https: { ...secureOptions(clientCa), cert: material.cert, key: material.key },
    limits: serveLimits(o),
  });
  // New handshakes get the new certificate; established keep-alive connections are not dropped.
  // setSecureContext replaces the whole context, so it gets the same client-CA, version and cipher
  // options as the first one, not only the new pair (else mutual TLS and the cipher policy are lost).
  applyTls = (m) => (app.server as unknown as import('node:tls').Server).setSecureContext({ ...secureOptions(clientCa), cert: m.cert, key: m.key });
  certs.start();
  await app.listen({ host: o.host, port: o.port });
  const health = o.healthPort === undefined ? undefined : await listenHealth(o.host, o.healthPort, readiness, metrics, logger);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  logger.info({ event: 'listening', host: o.host, port, policies: resolve(o.policies), ready: store.status.loaded }, `serving https://${o.host}:${port}`);
  if (tls.ca) {
    logger.info({ event: 'ca-bundle', file: tls.ca }, `CA bundle: ${tls.ca} — try: curl --cacert ${tls.ca} https://localhost:${port}/readyz`);
  }

  const onHup = (): void => store.schedule('SIGHUP');
  process.on('SIGHUP', onHup);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    shuttingDown = true;
    logger.info({ event: 'shutdown', delaySeconds: o.shutdownDelay }, 'not ready any more; still answering while endpoints update');
    await new Promise((r) => setTimeout(r, o.shutdownDelay * 1000));
    process.off('SIGHUP', onHup);
    store.close();
    certs.stop();
    clearInterval(missingClasses);
    await cluster.view?.stop();
    // close() stops accepting, lets in-flight reviews finish and closes idle keep-alive connections.
    await health?.close();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), (o.shutdownTimeout ?? 10) * 1000).unref());
    const result = await Promise.race([app.close().then(() => 'closed' as const), timeout]);
    if (result === 'timeout') {
      logger.warn({ event: 'shutdown-timeout' }, 'in-flight reviews did not finish in time; closing connections');
      app.server.closeAllConnections();
    }
    logger.info({ event: 'stopped' }, 'stopped');
  })());
  return stop;
}

/** Logs default PriorityClasses the cluster lacks whenever that list changes. */
function watchMissingClasses(store: PolicyStore, cluster: ClusterLink, logger: Logger): NodeJS.Timeout | undefined {
  if (!cluster.cache) return undefined;
  let last = '';
  const timer = setInterval(() => {
    const missing = missingDefaultClasses(store.policies, cluster.cache);
    const key = missing.join(',');
    if (key === last) return;
    last = key;
    if (missing.length > 0) logger.warn({ event: 'priority-classes-missing', classes: missing }, 'default PriorityClasses missing from the cluster: they are not injected until created');
    else logger.info({ event: 'priority-classes-present' }, 'every default PriorityClass exists');
  }, 2000);
  timer.unref();
  return timer;
}

const WATCHED = ['namespaces', 'nodes', 'priorityclasses', 'resourceclaimtemplates', 'resourceclaims', 'deviceclasses'] as const;

/**
 * Slow-client bounds. The request deadline sits well inside the API server's webhook timeout
 * (at most 30 s; https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#timeouts).
 */
export function serveLimits(o: Pick<ServeOptions, 'requestTimeout' | 'maxInflightBytes' | 'maxConnections'>): Limits {
  const limits = {
    requestTimeoutMs: Math.round((o.requestTimeout ?? 10) * 1000),
    maxInflightBytes: o.maxInflightBytes ?? 64 * 1024 * 1024,
    maxConnections: o.maxConnections ?? 1000,
  };
  if (limits.requestTimeoutMs <= 0) throw new Error('--request-timeout must be above 0');
  if (limits.maxInflightBytes < BODY_LIMIT) throw new Error(`--max-inflight-mib must hold at least one request of the body limit (${BODY_LIMIT / 1024 / 1024} MiB)`);
  if (limits.maxConnections < 1) throw new Error('--max-connections must be at least 1');
  return limits;
}

/**
 * Everything of the review port's secure context but the certificate and key: used for the first
 * context and for every rotation. Modern suites only (TLS 1.3, ECDHE + AEAD for 1.2); with a client
 * CA, a client certificate signed by it is required.
 */
export function secureOptions(clientCa: Buffer | undefined): import('node:tls').TlsOptions {
  return {
    minVersion: 'TLSv1.2', ciphers: MODERN_CIPHERS, honorCipherOrder: true,
    ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/** ECDHE key exchange with AEAD ciphers for TLS 1.2; TLS 1.3 suites are always on. */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The plaintext health and metrics port: never the review endpoints. */
async function listenHealth(host: string, port: number, readiness: () => { ready: boolean; details: Record<string, unknown> }, metrics: Metrics, logger: Logger): Promise<{ close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  registerHealth(app, { readiness, metrics });
  await app.listen({ host, port });
  const address = app.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  logger.info({ event: 'health-listening', host, port: actual }, `health and metrics on http://${host}:${actual} (/healthz, /readyz, /metrics)`);
  return { close: () => app.close() };
}
