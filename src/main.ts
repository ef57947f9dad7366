#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HELP } from './cli/help.js';
import { ClusterCache, type NodeInfo } from './cluster/cache.js';
import { discoverPools, poolDocuments } from './cluster/discover.js';
import { parseDurationSeconds } from './util/duration.js';
import { dumpYaml } from './util/yaml.js';
import { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES } from './workload/accelerators.js';
import { generateCerts, pemChain, serviceNames } from './certs/generate.js';
import { caBundlePatch, secretManifest } from './certs/manifests.js';
import { policyFileSchema } from './policy/schema.js';
import { createLogger } from './server/logger.js';
import { serve } from './server/serve.js';

class UsageError extends Error {}

const list = (v: string | undefined): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

function parse<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function int(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  return n;
}

async function runServe(args: string[]): Promise<number> {
  const { values } = parse(args, {
    policies: { type: 'string', default: 'policies' }, host: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '8443' }, cert: { type: 'string' }, key: { type: 'string' },
    'cert-dir': { type: 'string', default: 'certs' }, 'accelerator-resources': { type: 'string' },
    'shutdown-delay': { type: 'string', default: '5' }, 'shutdown-timeout': { type: 'string', default: '10' },
    'cert-warn-days': { type: 'string', default: '30' }, 'log-level': { type: 'string' },
    offline: { type: 'boolean' }, kubeconfig: { type: 'string' }, 'client-ca': { type: 'string' }, 'health-port': { type: 'string' },
  });
  if (values.help) return help('serve');
  const logger = createLogger(values['log-level']);
  const stop = await serve({
    policies: values.policies as string, host: values.host as string, port: int('port', values.port as string),
    cert: values.cert, key: values.key, certDir: values['cert-dir'] as string,
    acceleratorResources: list(values['accelerator-resources']), shutdownDelay: int('shutdown-delay', values['shutdown-delay'] as string),
    shutdownTimeout: int('shutdown-timeout', values['shutdown-timeout'] as string), offline: values.offline === true, kubeconfig: values.kubeconfig,
    clientCa: values['client-ca'], healthPort: values['health-port'] === undefined ? undefined : int('health-port', values['health-port']), certWarnDays: int('cert-warn-days', values['cert-warn-days'] as string), logger,
  });
  const onSignal = (signal: string) => (): void => {
    logger.info({ event: 'signal', signal }, `received ${signal}`);
    stop().then(() => process.exit(0), (err: unknown) => { logger.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));
  return new Promise<number>(() => undefined);
}

async function runPolicy(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { policies: { type: 'string', default: 'policies' }, out: { type: 'string' }, labels: { type: 'string' } });
  const [sub, ...rest] = positionals;
  if (values.help || !sub) return help('policy');
  if (sub === 'schema') {
    const text = `${JSON.stringify(policyFileSchema, null, 2)}\n`;
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    return 0;
  }
  const io = { stdout: process.stdout, stderr: process.stderr };
  const { explainCommand, testCommand, validateCommand } = await import('./policy/commands.js');
  switch (sub) {
    case 'validate':
      if (rest.length > 1) throw new UsageError('policy validate takes one directory');
      return validateCommand(rest[0] ?? (values.policies as string), io);
    case 'explain':
      if (rest.length !== 1) throw new UsageError('policy explain takes one namespace: gpu-admission policy explain <namespace> [--labels k=v,...]');
      return explainCommand(values.policies as string, rest[0] as string, labels(values.labels), io);
    case 'test':
      return testCommand(rest, values.policies as string, io);
    default:
      throw new UsageError(`unknown policy command "${sub}"`);
  }
}

/** `k=v,k2=v2` -> labels. */
function labels(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list(v)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--labels: "${pair}" is not key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function duration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = parseDurationSeconds(v);
  if (s === undefined) throw new UsageError(`--${name} must be a duration such as 90s, 15m or 1h30m, got "${v}"`);
  return s;
}

async function runOnboard(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    profile: { type: 'string' }, pools: { type: 'string' }, 'default-pool': { type: 'string' },
    'max-gpus-per-pod': { type: 'string' }, 'gpu-quota': { type: 'string' }, 'startup-budget': { type: 'string' },
    grace: { type: 'string' }, priority: { type: 'string' }, 'priority-value': { type: 'string' }, mode: { type: 'string' },
    labels: { type: 'string' }, policies: { type: 'string', default: 'policies' }, out: { type: 'string' },
    apply: { type: 'boolean' }, 'dry-run': { type: 'string', default: 'none' }, force: { type: 'boolean' }, kubeconfig: { type: 'string' },
  });
  if (values.help) return help('onboard');
  if (positionals.length !== 1) throw new UsageError('onboard takes one namespace: gpu-admission onboard <namespace> --profile <profile>');
  const { isProfileName, PROFILE_NAMES } = await import('./onboard/profiles.js');
  const profile = values.profile;
  if (!profile || !isProfileName(profile)) throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}${profile ? `, got "${profile}"` : ''}`);
  const mode = values.mode;
  if (mode !== undefined && mode !== 'enforce' && mode !== 'warn' && mode !== 'audit') throw new UsageError(`--mode must be enforce, warn or audit, got "${mode}"`);
  const dryRun = values['dry-run'];
  if (dryRun !== 'none' && dryRun !== 'server') throw new UsageError(`--dry-run must be server or none, got "${dryRun}" (without --apply nothing reaches the cluster anyway)`);
  if (dryRun === 'server' && !values.apply) throw new UsageError('--dry-run=server goes with --apply');
  const num = (name: string, v: string | undefined): number | undefined => (v === undefined ? undefined : int(name, v));
  const priorityValue = values['priority-value'];
  if (priorityValue !== undefined && !/^-?\d+$/.test(priorityValue)) throw new UsageError(`--priority-value must be a whole number, got "${priorityValue}"`);
  const { onboard } = await import('./onboard/command.js');
  return onboard({
    namespace: positionals[0] as string, profile, pools: values.pools === undefined ? undefined : list(values.pools),
    defaultPool: values['default-pool'], maxGpusPerPod: num('max-gpus-per-pod', values['max-gpus-per-pod']), gpuQuota: num('gpu-quota', values['gpu-quota']),
    startupBudgetSeconds: duration('startup-budget', values['startup-budget']), graceSeconds: duration('grace', values.grace),
    priority: values.priority, priorityValue: priorityValue === undefined ? undefined : Number(priorityValue), mode,
    labels: labels(values.labels), policies: values.policies as string, out: values.out, apply: values.apply === true,
    dryRun: dryRun === 'server', force: values.force === true, kubeconfig: values.kubeconfig,
    stdout: process.stdout, stderr: process.stderr,
  });
}

async function runCerts(args: string[]): Promise<number> {
  const { values } = parse(args, {
    service: { type: 'string', default: 'gpu-admission' }, namespace: { type: 'string', default: 'gpu-admission' },
    out: { type: 'string', default: 'certs' }, 'extra-names': { type: 'string', default: 'localhost,127.0.0.1' },
    days: { type: 'string', default: '365' }, 'secret-name': { type: 'string', default: 'gpu-admission-tls' },
    kustomize: { type: 'string' }, 'print-patch': { type: 'boolean' }, 'reuse-ca': { type: 'boolean' },
  });
  if (values.help) return help('certs');
  const out = values.out as string;
  const namespace = values.namespace as string;
  const caFiles = [join(out, 'ca.crt'), join(out, 'ca.key')] as const;
  let ca: { cert: string; key: string } | undefined;
  if (values['reuse-ca']) {
    if (!existsSync(caFiles[0]) || !existsSync(caFiles[1])) throw new UsageError(`--reuse-ca needs ${caFiles[0]} and ${caFiles[1]} from an earlier run`);
    ca = { cert: readFileSync(caFiles[0], 'utf8'), key: readFileSync(caFiles[1], 'utf8') };
  }
  const b = await generateCerts({ service: values.service as string, namespace, extraNames: list(values['extra-names']), days: int('days', values.days as string), ca });
  const chain = pemChain(b.cert, b.caCert);
  const secret = secretManifest(b, values['secret-name'] as string, namespace, chain);
  const patch = caBundlePatch(b.caCert);
  await mkdir(out, { recursive: true });
  const written = [join(out, 'ca.crt'), join(out, 'tls.crt'), join(out, 'tls.key'), join(out, 'secret.yaml'), caFiles[1]];
  await writeFile(written[0] as string, b.caCert);
  await writeFile(written[1] as string, chain);
  await writeFile(written[2] as string, b.key, { mode: 0o600 });
  await writeFile(written[3] as string, secret, { mode: 0o600 });
  await writeFile(caFiles[1], b.caKey, { mode: 0o600 });
  if (values.kustomize) {
    await mkdir(values.kustomize, { recursive: true });
    await writeFile(join(values.kustomize, 'secret.yaml'), secret, { mode: 0o600 });
    await writeFile(join(values.kustomize, 'cabundle-patch.yaml'), patch);
    written.push(join(values.kustomize, 'secret.yaml'), join(values.kustomize, 'cabundle-patch.yaml'));
  }
  if (values['print-patch']) process.stdout.write(patch);
  else console.log(`wrote ${written.join(', ')}\nnames: ${serviceNames({ service: values.service as string, namespace, extraNames: list(values['extra-names']) }).join(', ')}`);
  return 0;
}

async function runAudit(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    policies: { type: 'string', default: 'policies' }, namespace: { type: 'string', default: 'default' },
    output: { type: 'string', short: 'o', default: 'table' }, 'fail-on': { type: 'string', default: 'deny' },
    'accelerator-resources': { type: 'string' }, cluster: { type: 'boolean' }, 'all-namespaces': { type: 'boolean', short: 'A' },
    'write-reports': { type: 'boolean' }, kubeconfig: { type: 'string' },
  });
  if (values.help) return help('audit');
  const failOn = values['fail-on'];
  if (failOn !== 'deny' && failOn !== 'warn') throw new UsageError(`--fail-on must be deny or warn, got "${failOn}"`);
  const { auditCluster, auditManifests } = await import('./audit/command.js');
  if (values.cluster) {
    if (positionals.length > 0) throw new UsageError('--cluster audits the live cluster: give no paths');
    return auditCluster({
      policies: values.policies as string, namespace: values.namespace, allNamespaces: values['all-namespaces'] === true,
      writeReports: values['write-reports'] === true, kubeconfig: values.kubeconfig, output: values.output as string, failOn,
      acceleratorResources: list(values['accelerator-resources']), version: version(), stdout: process.stdout, stderr: process.stderr, logger: createLogger('warn'),
    });
  }
  if (values['write-reports'] || values['all-namespaces']) throw new UsageError('--write-reports and --all-namespaces go with --cluster');
  return auditManifests({
    paths: positionals, policies: values.policies as string, namespace: values.namespace as string, output: values.output as string,
    failOn, acceleratorResources: list(values['accelerator-resources']), version: version(), stdout: process.stdout, stderr: process.stderr,
  });
}

async function runPools(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { kubeconfig: { type: 'string' }, 'accelerator-resources': { type: 'string' } });
  if (values.help || positionals[0] !== 'discover') return help('pools');
  const { findKubeConfig } = await import('./cluster/informers.js');
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const found = findKubeConfig(values.kubeconfig);
  if (!found) throw new Error('no cluster configuration: pass --kubeconfig, set $KUBECONFIG or run in a cluster');
  const core = found.kc.makeApiClient(CoreV1Api);
  const nodes: NodeInfo[] = [];
  let _continue: string | undefined;
  do {
    const page = await core.listNode({ limit: 500, _continue });
    const cache = new ClusterCache();
    for (const n of page.items) cache.node('add', n as never);
    nodes.push(...cache.nodeMap.values());
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  const matcher = new AcceleratorMatcher([...DEFAULT_ACCELERATOR_RESOURCES, ...list(values['accelerator-resources'])]);
  const pools = discoverPools(nodes, matcher);
  if (pools.length === 0) {
    console.error(`no node of ${nodes.length} offers an accelerator resource`);
    return 1;
  }
  process.stdout.write(`# GpuPools discovered from ${nodes.length} nodes of ${found.kc.getCurrentCluster()?.server ?? found.source}: review the names and labels\n`);
  process.stdout.write(poolDocuments(pools).map((d) => dumpYaml(d)).join('---\n'));
  return 0;
}

function help(topic: string): number {
  console.log(HELP[topic] ?? HELP['main']);
  return 0;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': return runServe(rest);
    case 'policy': return runPolicy(rest);
    case 'onboard': return runOnboard(rest);
    case 'certs': return runCerts(rest);
    case 'pools': return runPools(rest);
    case 'audit': return runAudit(rest);
    case '--version': case 'version': console.log(version()); return 0;
    case undefined: case '--help': case '-h': case 'help': return help('main');
    default: throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof UsageError || isBadInput(err)) {
      console.error(`gpu-admission: ${(err as Error).message}${err instanceof UsageError ? "\nRun 'gpu-admission --help' for usage." : ''}`);
      process.exitCode = 2;
    } else {
      console.error(`gpu-admission: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  },
);

/** Input the user must fix (exit 2): unreadable manifests, invalid policies. */
function isBadInput(err: unknown): boolean {
  return err instanceof Error && (err.name === 'InputError' || err.name === 'PolicyError');
}
