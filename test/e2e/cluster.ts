/**
 * End-to-end harness: etcd + kube-apiserver from KUBEBUILDER_ASSETS on loopback, the webhook as
 * users run it (`node dist/main.js serve`), registered by URL with its CA bundle.
 *
 * Every process is started in its own process group and stopped by group: in stop(), on process
 * exit and on SIGINT/SIGTERM/SIGHUP, and by a small watchdog should the test worker die without
 * running any handler (SIGKILL, OOM).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { beforeEach } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  SchedulingV1Api,
  type V1MutatingWebhookConfiguration,
  type V1Namespace,
  type V1Node,
  type V1Pod,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { parseYamlDocuments } from '../../src/util/yaml.js';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const ASSETS = process.env['KUBEBUILDER_ASSETS'] || undefined;

export const SKIP_MESSAGE =
  'end-to-end suite skipped: KUBEBUILDER_ASSETS is not set. It needs the kube-apiserver and etcd binaries: ' +
  'run `KUBEBUILDER_ASSETS=$(../shared/envtest/build-assets.sh) npm run test:e2e` (v1.20.2, built from source), ' +
  'or point KUBEBUILDER_ASSETS at a folder from setup-envtest (`KUBEBUILDER_ASSETS=$(setup-envtest use -p path <version>) npm run test:e2e`).';

export const WEBHOOK_NAMESPACE = 'gpu-admission';
export const CONFIGURATION_NAME = 'gpu-admission';
export const MUTATING_WEBHOOK = 'mutate.gpu-admission.io';
export const VALIDATING_WEBHOOK = 'validate.gpu-admission.io';
/** Namespaces the webhooks never see, as the shipped manifests (and the Kubernetes docs) advise. */
export const EXCLUDED_NAMESPACES = ['kube-system', 'kube-node-lease', WEBHOOK_NAMESPACE];
const NAME_LABEL = 'kubernetes.io/metadata.name';

// ---------------------------------------------------------------------------------------------
// processes

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exit: Promise<void>;
  exited: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<Proc>();
const tempDirs = new Set<string>();
let handlersInstalled = false;

function killGroupSync(p: Proc, signal: NodeJS.Signals): void {
  if (p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

/** Last resort, synchronous: used from 'exit' and signal handlers where nothing can be awaited. */
function emergencyCleanup(): void {
  for (const p of live) if (!p.exited) killGroupSync(p, 'SIGKILL');
  live.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', emergencyCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      emergencyCleanup();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
  // A forked vitest worker whose parent went away.
  process.once('disconnect', emergencyCleanup);
}

function startProcess(dir: string, name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const log = join(dir, `${name}.log`);
  appendFileSync(log, `$ ${command} ${args.join(' ')}\n`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let resolveExit!: () => void;
  const p: Proc = { name, child, log, exited: false, code: null, signal: null, exit: new Promise((r) => (resolveExit = r)) };
  child.on('exit', (code, signal) => {
    p.exited = true;
    p.code = code;
    p.signal = signal;
    resolveExit();
  });
  child.on('error', (err) => {
    appendFileSync(log, `spawn error: ${err.message}\n`);
    p.exited = true;
    resolveExit();
  });
  if (child.pid !== undefined) appendFileSync(join(dir, 'pgids'), `${child.pid}\n`);
  live.add(p);
  return p;
}

async function stopProcess(p: Proc, graceMs: number): Promise<void> {
  if (!p.exited) {
    killGroupSync(p, 'SIGTERM');
    await Promise.race([p.exit, sleep(graceMs)]);
  }
  // Also whatever the leader left behind in its group.
  killGroupSync(p, 'SIGKILL');
  await Promise.race([p.exit, sleep(2000)]);
  live.delete(p);
}

/** Kills the process groups and removes the temp dir if the test worker disappears without cleanup. */
function startWatchdog(dir: string): ChildProcess {
  const script = [
    'while kill -0 "$WORKER" 2>/dev/null; do sleep 1; done',
    'for g in $(cat "$DIR/pgids" 2>/dev/null); do kill -KILL "-$g" 2>/dev/null; done',
    'rm -rf "$DIR"',
  ].join('\n');
  const w = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', WORKER: String(process.pid), DIR: dir } });
  w.unref();
  return w;
}

export function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no ${file})`;
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// small helpers

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

interface HttpAnswer {
  status: number;
  body: string;
}

function get(url: string, opts: { token?: string; ca?: string; insecure?: boolean } = {}): Promise<HttpAnswer> {
  const u = new URL(url);
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  return new Promise((resolveGet, reject) => {
    const done = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    };
    const req = u.protocol === 'https:'
      ? httpsRequest(u, { headers, ca: opts.ca, rejectUnauthorized: !opts.insecure, timeout: 3000 }, done)
      : httpRequest(u, { headers, timeout: 3000 }, done);
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `check` until it returns a value; fails early, with the log, if `proc` exits meanwhile. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, procs: Proc[] = []): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    for (const p of procs) {
      if (p.exited) throw new Error(`${p.name} exited (code ${p.code}, signal ${p.signal}) while waiting for ${what}:\n${tail(p.log)}`);
    }
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(150);
  }
}

// ---------------------------------------------------------------------------------------------
// capturing what kube-apiserver sends

/** A TLS recorder in front of the webhook: writes every AdmissionReview body, then forwards it. */
interface Recorder {
  url: string;
  /** Files written so far, in arrival order. */
  files: string[];
  /** Off while the harness waits for its own probe requests; on once the tests start. */
  active: boolean;
  close(): Promise<void>;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unnamed';

/** `001-mutate-CREATE-Pod-<name>[-dryrun].json`, as in test/fixtures/reviews/. */
export function reviewFileName(seq: number, endpoint: string, review: { request?: Record<string, unknown> }): string {
  const r = review.request ?? {};
  const object = (r['object'] ?? r['oldObject'] ?? {}) as { metadata?: { name?: string; generateName?: string } };
  const kind = (r['kind'] as { kind?: string } | undefined)?.kind ?? 'Unknown';
  const name = (r['name'] as string | undefined) || object.metadata?.name || object.metadata?.generateName || 'unnamed';
  return `${String(seq).padStart(3, '0')}-${safeName(endpoint)}-${String(r['operation'] ?? 'UNKNOWN')}-${safeName(kind)}-${safeName(name)}${r['dryRun'] === true ? '-dryrun' : ''}.json`;
}

async function startRecorder(dir: string, target: string, tls: { cert: string; key: string; ca: string }): Promise<Recorder> {
  mkdirSync(dir, { recursive: true });
  // Numbering continues after what the folder holds, so a second cluster never overwrites the first's.
  let seq = readdirSync(dir).reduce((max, f) => Math.max(max, Number(/^(\d+)-/.exec(f)?.[1] ?? 0)), 0);
  const port = await freePort();
  const rec: Recorder = { url: `https://127.0.0.1:${port}`, files: [], active: false, close: async () => undefined };
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (rec.active) {
        try {
          const review = JSON.parse(body.toString('utf8')) as { request?: Record<string, unknown> };
          const endpoint = (req.url ?? '/').split('?')[0]!.replace(/^\//, '');
          const file = reviewFileName(++seq, endpoint, review);
          writeFileSync(join(dir, file), `${JSON.stringify(review, null, 2)}\n`);
          rec.files.push(file);
        } catch {
          // not JSON: forwarded as it came, the webhook answers it
        }
      }
      const up = httpsRequest(`${target}${req.url ?? '/'}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': String(body.length) },
        ca: tls.ca,
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`recorder: ${err.message}`);
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
  rec.close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return rec;
}

// ---------------------------------------------------------------------------------------------
// API errors and warnings as clients see them

export interface ApiRefusal {
  code: number;
  reason?: string;
  message: string;
}

/** Awaits a call the API server must refuse; returns its HTTP status and Status message. */
export async function refusal(call: Promise<unknown>): Promise<ApiRefusal> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const raw: unknown = err.body;
    let status: { message?: string; reason?: string } = {};
    if (typeof raw === 'string') {
      try {
        status = JSON.parse(raw) as typeof status;
      } catch {
        status = { message: raw };
      }
    } else if (raw && typeof raw === 'object') status = raw as typeof status;
    return { code: err.code, reason: status.reason, message: status.message ?? String(raw) };
  }
  throw new Error('expected the API server to refuse the request, but it accepted it');
}

/**
 * `Warning: 299 - "text"` headers (folded into one by fetch) back into their texts. fetch hands
 * header bytes over as latin1; the API server sends UTF-8.
 */
export function warningTexts(raw: string | undefined): string[] {
  if (!raw) return [];
  const header = /^[\u0000-\u00ff]*$/.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
  const out: string[] = [];
  const re = /\d{3} +\S+ +"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) out.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

// ---------------------------------------------------------------------------------------------
// webhook configurations

interface Webhook {
  name: string;
  clientConfig: { url?: string; caBundle?: string; service?: { path?: string } };
  failurePolicy?: string;
  namespaceSelector?: unknown;
  matchConditions?: unknown;
  [k: string]: unknown;
}

interface WebhookConfiguration {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
  webhooks: Webhook[];
}

const namespaceSelector = (): Record<string, unknown> => ({
  matchExpressions: [{ key: NAME_LABEL, operator: 'NotIn', values: [...EXCLUDED_NAMESPACES] }],
});

function inlineConfigurations(): WebhookConfiguration[] {
  const common = { sideEffects: 'None', admissionReviewVersions: ['v1', 'v1beta1'], timeoutSeconds: 10, matchPolicy: 'Equivalent', namespaceSelector: namespaceSelector() };
  const ops = ['CREATE', 'UPDATE'];
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: CONFIGURATION_NAME },
      webhooks: [{
        name: MUTATING_WEBHOOK,
        clientConfig: { service: { path: '/mutate' } },
        // What a production install uses (an outage must not stop Pods); forThisCluster() makes
        // every webhook Fail so that errors surface in the tests.
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'Never',
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        ...common,
      }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: CONFIGURATION_NAME },
      webhooks: [{
        name: VALIDATING_WEBHOOK,
        clientConfig: { service: { path: '/validate' } },
        failurePolicy: 'Fail',
        rules: [
          { operations: ops, apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
          { operations: ops, apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' },
          { operations: ops, apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs'], scope: 'Namespaced' },
        ],
        ...common,
      }],
    },
  ];
}

/** The shipped webhook configurations (manifests/base) when the repository has them. */
function shippedConfigurations(): { docs: WebhookConfiguration[]; source: string } | undefined {
  const dir = join(ROOT, 'manifests', 'base');
  if (!existsSync(dir)) return undefined;
  const docs: WebhookConfiguration[] = [];
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    for (const d of parseYamlDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const v = d.value as Partial<WebhookConfiguration>;
      if ((v.kind === 'MutatingWebhookConfiguration' || v.kind === 'ValidatingWebhookConfiguration') && Array.isArray(v.webhooks)) docs.push(v as WebhookConfiguration);
    }
  }
  const has = (kind: string): boolean => docs.some((d) => d.kind === kind);
  return has('MutatingWebhookConfiguration') && has('ValidatingWebhookConfiguration') ? { docs, source: 'manifests/base' } : undefined;
}

/** Registered by URL with the CA bundle; fields v1.20 does not know dropped; failures surface. */
function forThisCluster(doc: WebhookConfiguration, baseUrl: string, caBundle: string): WebhookConfiguration {
  const mutating = doc.kind === 'MutatingWebhookConfiguration';
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: doc.kind,
    metadata: { name: doc.metadata.name || CONFIGURATION_NAME },
    webhooks: doc.webhooks.map((w) => {
      const { matchConditions: _dropped, clientConfig, ...rest } = w;
      const path = clientConfig.service?.path ?? (mutating ? '/mutate' : '/validate');
      return {
        ...rest,
        clientConfig: { url: `${baseUrl}${path}`, caBundle },
        failurePolicy: 'Fail',
        namespaceSelector: rest.namespaceSelector ?? namespaceSelector(),
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// the cluster

export interface Cluster {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  admission: AdmissionregistrationV1Api;
  scheduling: SchedulingV1Api;
  server: string;
  token: string;
  webhookUrl: string;
  dir: string;
  /** Where the webhook configurations came from. */
  configurationSource: string;
  /** With a capture folder: the review files written so far, in arrival order. */
  capturedReviews(): string[];
  /** Whether kube-apiserver set `kubernetes.io/metadata.name` itself (1.21+), or the harness did. */
  apiServerLabelsNamespaces: boolean;
  /** Creates (or finds) a namespace and makes sure it carries its `kubernetes.io/metadata.name` label. */
  ensureNamespace(name: string): Promise<V1Namespace>;
  /** Review lines the webhook logged (JSON lines of its stdout). */
  webhookReviews(): Array<Record<string, unknown>>;
  /** The webhook's /metrics text (Prometheus exposition), from its review port. */
  webhookMetrics(): Promise<string>;
  /** The review lines of one object, once at least `count` arrived (the log is written after the answer). */
  reviewsOf(namespace: string, name: string, count: number): Promise<Array<Record<string, unknown>>>;
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Log progress to stderr. */
  verbose?: boolean;
  /** The webhook's policy directory (default: the repository's policies/); it reloads on change. */
  policiesDir?: string;
  /**
   * Write every AdmissionReview kube-apiserver sends to the webhook into this folder, as
   * `001-mutate-CREATE-Pod-<name>.json` (default: the CAPTURE_REVIEWS environment variable).
   */
  captureDir?: string;
  /** Also run kube-controller-manager (the deployment and replicaset controllers). */
  controllers?: boolean;
  /** Also run kube-scheduler, so that admitted Pods are really bound (see createPoolNodes for Nodes). */
  scheduler?: boolean;
}

export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  if (!ASSETS) throw new Error(SKIP_MESSAGE);
  const etcdBin = join(ASSETS, 'etcd');
  const apiBin = join(ASSETS, 'kube-apiserver');
  for (const b of [etcdBin, apiBin]) if (!existsSync(b)) throw new Error(`KUBEBUILDER_ASSETS=${ASSETS} has no ${b.split('/').pop()} binary`);
  const say = (m: string): void => {
    if (opts.verbose) process.stderr.write(`[e2e] ${m}\n`);
  };
  const t0 = Date.now();

  installHandlers();
  // dist/ (the program users run) is built from src/ once per run by test/global-setup.ts.
  const dir = mkdtempSync(join(tmpdir(), 'gpu-admission-e2e-'));
  tempDirs.add(dir);
  const watchdog = startWatchdog(dir);
  const procs: Proc[] = [];
  const captureDir = opts.captureDir ?? (process.env['CAPTURE_REVIEWS'] || undefined);
  let recorder: Recorder | undefined;

  const stop = async (): Promise<void> => {
    // Webhook first: the API server would only call it; then the API server before its etcd.
    for (const p of [...procs].reverse()) await stopProcess(p, p.name === 'kube-apiserver' ? 5000 : 3000);
    await recorder?.close();
    try {
      if (watchdog.pid !== undefined) process.kill(watchdog.pid, 'SIGKILL');
    } catch {
      // gone already
    }
    if (process.env['E2E_KEEP']) process.stderr.write(`[e2e] E2E_KEEP is set: logs and data kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  const logTails = (lines = 40): string =>
    procs.map((p) => `----- ${p.name} (${p.log}), last ${lines} lines -----\n${tail(p.log, lines)}`).join('\n');

  try {
    const [etcdPort, peerPort, apiPort, webhookPort] = await distinctFreePorts(4) as [number, number, number, number];

    // etcd
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = startProcess(dir, 'etcd', etcdBin, [
      '--name=e2e', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=e2e=${peerUrl}`,
      '--log-level=warn',
    ]);
    procs.push(etcd);

    // webhook certificates (the CLI users run), kube-apiserver credentials
    const certDir = join(dir, 'webhook-certs');
    const certs = spawnSync(process.execPath, ['dist/main.js', 'certs', '--out', certDir, '--extra-names', 'localhost,127.0.0.1'], { cwd: ROOT, encoding: 'utf8' });
    if (certs.status !== 0) throw new Error(`gpu-admission certs failed:\n${certs.stdout}${certs.stderr}`);
    const token = randomBytes(24).toString('hex');
    const apiDir = join(dir, 'kube-apiserver');
    mkdirSync(apiDir, { recursive: true });
    writeFileSync(join(apiDir, 'tokens.csv'), `${token},e2e-admin,e2e-admin,"system:masters"\n`, { mode: 0o600 });
    const sa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    writeFileSync(join(apiDir, 'sa.pub'), sa.publicKey);
    writeFileSync(join(apiDir, 'sa.key'), sa.privateKey, { mode: 0o600 });

    await waitFor('etcd /health', 30_000, async () => {
      const r = await get(`${etcdUrl}/health`);
      return r.status === 200 && r.body.includes('true') ? true : undefined;
    }, [etcd]);
    say(`etcd ready on ${etcdUrl} (${Date.now() - t0} ms)`);

    // kube-apiserver
    const server = `https://127.0.0.1:${apiPort}`;
    const api = startProcess(dir, 'kube-apiserver', apiBin, [
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${apiPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', '--insecure-port=0',
      `--cert-dir=${join(apiDir, 'certs')}`,
      `--token-auth-file=${join(apiDir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(apiDir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(apiDir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      '--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook,Priority',
      '--allow-privileged=true',
      '--v=1',
    ]);
    procs.push(api);
    await waitFor('kube-apiserver /readyz', 90_000, async () => {
      const r = await get(`${server}/readyz`, { token, insecure: true });
      return r.status === 200 ? true : undefined;
    }, [etcd, api]);
    say(`kube-apiserver ready on ${server} (${Date.now() - t0} ms)`);

    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'e2e', server, skipTLSVerify: true }],
      users: [{ name: 'e2e-admin', token }],
      contexts: [{ name: 'e2e', cluster: 'e2e', user: 'e2e-admin' }],
      currentContext: 'e2e',
    });
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const batch = kc.makeApiClient(BatchV1Api);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    const scheduling = kc.makeApiClient(SchedulingV1Api);

    // The bootstrap controller creates default, kube-system, kube-public and kube-node-lease.
    await waitFor('the bootstrap namespaces', 30_000, async () => {
      const list = await core.listNamespace();
      const names = new Set(list.items.map((n) => n.metadata?.name));
      return ['default', 'kube-system', 'kube-public', 'kube-node-lease'].every((n) => names.has(n)) ? true : undefined;
    }, [api]);
    const probe = await core.readNamespace({ name: 'default' });
    const apiServerLabelsNamespaces = probe.metadata?.labels?.[NAME_LABEL] === 'default';
    say(`kube-apiserver ${apiServerLabelsNamespaces ? 'sets' : 'does not set'} ${NAME_LABEL} on namespaces${apiServerLabelsNamespaces ? '' : ': the harness does'}`);

    const ensureNamespace = async (name: string): Promise<V1Namespace> => {
      let ns: V1Namespace;
      try {
        ns = await core.readNamespace({ name });
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 404) throw err;
        ns = await core.createNamespace({ body: { metadata: { name, labels: { [NAME_LABEL]: name } } } });
      }
      // v1.20 does not set the label (the NamespaceDefaultLabelName gate arrived in 1.21); the
      // webhooks' namespaceSelector relies on it, so set it as 1.21+ would.
      if (ns.metadata?.labels?.[NAME_LABEL] !== name) {
        ns.metadata = { ...ns.metadata, labels: { ...ns.metadata?.labels, [NAME_LABEL]: name } };
        ns = await core.replaceNamespace({ name, body: ns });
      }
      return ns;
    };
    // Before the webhooks exist: NotIn also matches namespaces without the label.
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease', WEBHOOK_NAMESPACE]) await ensureNamespace(n);

    // The webhook, as users run it. It gets a kubeconfig for this cluster only (never the user's).
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kc.exportConfig(), { mode: 0o600 });
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir, LOG_LEVEL: 'debug' };
    delete env['KUBERNETES_SERVICE_HOST'];
    delete env['KUBERNETES_SERVICE_PORT'];
    const webhook = startProcess(dir, 'webhook', process.execPath, [
      'dist/main.js', 'serve', '--policies', opts.policiesDir ?? join(ROOT, 'policies'), '--host', '127.0.0.1', '--port', String(webhookPort),
      '--cert', join(certDir, 'tls.crt'), '--key', join(certDir, 'tls.key'), '--shutdown-delay', '0',
    ], env);
    procs.push(webhook);
    const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
    const webhookUrl = `https://127.0.0.1:${webhookPort}`;
    await waitFor('the webhook /readyz', 30_000, async () => {
      const r = await get(`${webhookUrl}/readyz`, { ca });
      return r.status === 200 ? true : undefined;
    }, [webhook]);
    say(`webhook ready on ${webhookUrl} (${Date.now() - t0} ms)`);
    if (captureDir) {
      recorder = await startRecorder(captureDir, webhookUrl, { cert: readFileSync(join(certDir, 'tls.crt'), 'utf8'), key: readFileSync(join(certDir, 'tls.key'), 'utf8'), ca });
      say(`recording AdmissionReviews into ${captureDir} through ${recorder.url}`);
    }

    if (opts.controllers) {
      const cmBin = join(ASSETS, 'kube-controller-manager');
      if (!existsSync(cmBin)) throw new Error(`KUBEBUILDER_ASSETS=${ASSETS} has no kube-controller-manager binary`);
      const [cmPort] = await distinctFreePorts(1) as [number];
      const flexDir = join(dir, 'flexvolume');
      mkdirSync(flexDir, { recursive: true });
      const cm = startProcess(dir, 'kube-controller-manager', cmBin, [
        `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--port=0', `--secure-port=${cmPort}`,
        `--service-account-private-key-file=${join(apiDir, 'sa.key')}`, '--use-service-account-credentials=false',
        '--controllers=deployment,replicaset',
        '--node-monitor-grace-period=87600h', '--node-startup-grace-period=87600h', `--flex-volume-plugin-dir=${flexDir}`,
        '--v=1',
      ]);
      procs.push(cm);
      say('kube-controller-manager started (deployment, replicaset)');
    }

    if (opts.scheduler) {
      const schedBin = join(ASSETS, 'kube-scheduler');
      if (!existsSync(schedBin)) throw new Error(`KUBEBUILDER_ASSETS=${ASSETS} has no kube-scheduler binary`);
      const [schedPort] = await distinctFreePorts(1) as [number];
      // --port=0: v1.20 otherwise also serves plain HTTP on 0.0.0.0.
      const sched = startProcess(dir, 'kube-scheduler', schedBin, [
        `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--port=0', `--secure-port=${schedPort}`,
        '--v=1',
      ]);
      procs.push(sched);
      say('kube-scheduler started');
    }

    // Register both configurations by URL.
    const shipped = shippedConfigurations();
    const source = shipped?.source ?? 'inline (no manifests/base)';
    const caBundle = Buffer.from(ca).toString('base64');
    // The recorder presents the webhook's own certificate, so the same caBundle fits both.
    for (const doc of (shipped?.docs ?? inlineConfigurations()).map((d) => forThisCluster(d, recorder?.url ?? webhookUrl, caBundle))) {
      if (doc.kind === 'MutatingWebhookConfiguration') {
        await admission.createMutatingWebhookConfiguration({ body: doc as unknown as V1MutatingWebhookConfiguration });
      } else {
        await admission.createValidatingWebhookConfiguration({ body: doc as unknown as V1ValidatingWebhookConfiguration });
      }
    }

    const webhookReviews = (): Array<Record<string, unknown>> =>
      readFileSync(webhook.log, 'utf8').split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
        try {
          const v = JSON.parse(l) as Record<string, unknown>;
          return v['event'] === 'review' ? [v] : [];
        } catch {
          return [];
        }
      });

    // Effective once a dry-run create goes through both: denied by our validating webhook with our
    // text, after our mutating webhook logged its review of the same request.
    let n = 0;
    await waitFor('the webhook configurations to take effect', 30_000, async () => {
      const name = `e2e-webhook-probe-${n++}`;
      const body: V1Pod = {
        metadata: { name },
        spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      };
      const r = await refusal(core.createNamespacedPod({ namespace: 'default', body, dryRun: 'All' })).catch(() => undefined);
      if (!r?.message.includes(`admission webhook "${VALIDATING_WEBHOOK}" denied the request`)) return undefined;
      return webhookReviews().some((l) => l['endpoint'] === 'mutate' && l['name'] === name) ? true : undefined;
    }, procs);
    say(`webhooks effective (${Date.now() - t0} ms, configurations from ${source})`);
    // The harness's own probe requests above are not part of any capture.
    if (recorder) recorder.active = true;

    const reviewsOf = (namespace: string, name: string, count: number): Promise<Array<Record<string, unknown>>> =>
      waitFor(`${count} webhook log lines for ${namespace}/${name}`, 5000, async () => {
        const lines = webhookReviews().filter((r) => r['namespace'] === namespace && r['name'] === name);
        return lines.length >= count ? lines : undefined;
      }, [webhook]);

    return {
      kc, core, apps, batch, admission, scheduling, server, token, webhookUrl, dir,
      configurationSource: source,
      capturedReviews: () => [...(recorder?.files ?? [])],
      apiServerLabelsNamespaces,
      ensureNamespace,
      webhookReviews,
      webhookMetrics: async () => (await get(`${webhookUrl}/metrics`, { ca })).body,
      reviewsOf,
      logTails,
      stop,
    };
  } catch (err) {
    const tails = logTails();
    await stop();
    (err as Error).message += `\n${tails}`;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// fake Nodes (no kubelet)

/** The label every fake Node carries with the name of the GpuPool it stands for (`cpu`: no pool). */
export const POOL_LABEL = 'e2e.gpu-admission.io/pool';

/**
 * A permissive PyTorchJob CRD: the API server stores what it is given, as with the real operator's.
 * The client's model names the extension x_kubernetes_preserve_unknown_fields: written with dashes
 * it is dropped when the body is serialised, and the API server prunes the whole spec.
 */
export const PYTORCHJOB_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'pytorchjobs.kubeflow.org' },
  spec: {
    group: 'kubeflow.org',
    scope: 'Namespaced',
    names: { plural: 'pytorchjobs', singular: 'pytorchjob', kind: 'PyTorchJob', listKind: 'PyTorchJobList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
  },
};

/** On a failed test, the tails of the cluster's and the webhook's logs on stderr. */
export function logsOnFailure(cluster: () => Cluster | undefined): void {
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      const c = cluster();
      if (c) process.stderr.write(`\n[e2e] ${ctx.task.name} failed; logs under ${c.dir}:\n${c.logTails(30)}\n`);
    });
  });
}

export interface FakeNode {
  name: string;
  pool: string;
}

interface PoolDoc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { nodeLabels?: Record<string, string>; taints?: Array<{ key: string; value?: string; effect: string }>; resources?: string[]; maxPerPod?: number };
}

/**
 * One Node per GpuPool of the policy files (its nodeLabels, its taints, its resources allocatable,
 * instance type `e2e-<pool>`), and one untainted CPU Node. Ready through the status subresource; the not-ready taint the API
 * server adds at creation is removed, and with no node controller nothing adds it back.
 */
export async function createPoolNodes(core: CoreV1Api, policiesDir = join(ROOT, 'policies')): Promise<FakeNode[]> {
  const pools: PoolDoc[] = [];
  for (const f of readdirSync(policiesDir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    for (const d of parseYamlDocuments(readFileSync(join(policiesDir, f), 'utf8'))) {
      const v = d.value as PoolDoc | null;
      if (v?.kind === 'GpuPool' && v.metadata?.name) pools.push(v);
    }
  }
  const wanted = [
    ...pools.map((p) => ({ pool: p.metadata!.name!, labels: p.spec?.nodeLabels ?? {}, taints: p.spec?.taints ?? [], resources: Object.fromEntries((p.spec?.resources ?? []).map((r) => [r, String(p.spec?.maxPerPod ?? 8)])) })),
    { pool: 'cpu', labels: {}, taints: [], resources: {} },
  ];
  const out: FakeNode[] = [];
  for (const w of wanted) {
    const name = `e2e-${w.pool}-0`;
    await core.createNode({
      body: {
        metadata: { name, labels: { ...w.labels, 'kubernetes.io/hostname': name, 'node.kubernetes.io/instance-type': `e2e-${w.pool}`, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', [POOL_LABEL]: w.pool } },
        spec: { taints: w.taints.map((t) => ({ ...t })) },
      },
    });
    const node: V1Node = await core.readNode({ name });
    const now = new Date();
    const allocatable = { cpu: '96', memory: '1000Gi', pods: '110', 'ephemeral-storage': '500Gi', ...w.resources };
    node.status = {
      capacity: allocatable,
      allocatable,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake node of the e2e suite', lastHeartbeatTime: now, lastTransitionTime: now }],
    };
    await core.replaceNodeStatus({ name, body: node });
    const ready = await core.readNode({ name });
    const taints = (ready.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready');
    ready.spec = { ...ready.spec, taints };
    await core.replaceNode({ name, body: ready });
    out.push({ name, pool: w.pool });
  }
  return out;
}
