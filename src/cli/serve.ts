import { UsageError, UserError } from '../util/errors.js';
import { type Command, list, str, wholeNumber } from './command.js';

const num = (v: Record<string, string | boolean | undefined>, name: string): number => wholeNumber('serve', name, str(v, name) as string);

export const serveCommand: Command = {
  name: 'serve',
  usage: `Usage: gpu-admission serve [flags]

Runs the webhook over HTTPS (TLS >= 1.2, HTTP/1.1 keep-alive).`,
  flags: {
    policies: { type: 'string', default: 'policies', arg: '<dir>', help: 'policy directory, watched and reloaded on change' },
    host: { type: 'string', default: '0.0.0.0', arg: '<addr>', help: 'address to listen on' },
    port: { type: 'string', default: '8443', arg: '<n>', help: 'port to listen on' },
    cert: { type: 'string', arg: '<file>', help: 'serving certificate (PEM, with --key); without them a self-signed\ndevelopment certificate is generated into --cert-dir' },
    key: { type: 'string', arg: '<file>', help: 'private key of --cert (PEM)' },
    'cert-dir': { type: 'string', default: 'certs', arg: '<dir>', help: 'where the development certificate lives' },
    'accelerator-resources': { type: 'string', arg: '<list>', help: "extra accelerator resource names, comma-separated, '*' globs allowed\n(added to the built-in list, the pools' resources and the policies'\nAcceleratorConfig; prefer the AcceleratorConfig, which audit reads too)" },
    'shutdown-delay': { type: 'string', default: '5', arg: '<seconds>', help: 'on SIGTERM, report not ready and keep serving this long' },
    'shutdown-timeout': { type: 'string', default: '10', arg: '<seconds>', help: 'then give in-flight reviews this long to finish' },
    'cert-warn-days': { type: 'string', default: '30', arg: '<days>', help: 'warn when the serving certificate expires within this many days' },
    'client-ca': { type: 'string', arg: '<file>', help: "require and verify a client certificate (the API server's) signed by\nthis CA on the review port; pair it with --health-port for probes" },
    'request-timeout': { type: 'string', default: '10', arg: '<seconds>', help: 'a client must send a whole request (headers and body) within this,\nelse 408 and the connection is closed; keep it under the webhook\ntimeoutSeconds' },
    'max-inflight-mib': { type: 'string', default: '64', arg: '<MiB>', help: 'request bytes held across all connections (a request reserves its\nContent-Length); over it, 503 at once without reading the body' },
    'max-connections': { type: 'string', default: '1000', arg: '<n>', help: 'open connections on the review port; more are dropped' },
    'review-memo': { type: 'string', default: '1024', arg: '<n>', help: 'answers kept per endpoint for repeats of a judged review (the Pods of\none template: same text but for uid, name, creationTimestamp);\nemptied on any policy or cluster change; 0 turns it off' },
    'health-port': { type: 'string', arg: '<n>', help: 'also serve /healthz, /readyz and /metrics over plain HTTP on this port\n(never the review endpoints); off by default' },
    kubeconfig: { type: 'string', arg: '<file>', help: 'kubeconfig for the cluster view (default: in-cluster service account,\nthen $KUBECONFIG, then ~/.kube/config)' },
    offline: { type: 'boolean', help: 'do not watch the cluster: judge from policy files only (also the\nbehaviour when no configuration exists)' },
    'log-level': { type: 'string', arg: '<level>', help: 'trace|debug|info|warn|error (default: info, or $LOG_LEVEL)' },
    workers: { type: 'string', arg: '<n>', help: "processes sharing the port (1: a single process, as before); default:\nthe CPUs the container may use (cgroup quota, else available CPUs),\nat most what a memory limit holds (96 MiB + 128 MiB a worker); 1 with a cluster view,\nwhose informers every worker would run (docs/performance.md)" },
  },
  footer: `The certificate and key are reloaded when their files change (a Secret mount, cert-manager),
without dropping open connections.
Signals: SIGHUP reloads policies; SIGTERM/SIGINT drain and stop.`,
  async run(v) {
    const { createLogger } = await import('../server/logger.js');
    const workers = await import('../server/workers.js');
    const link = workers.workerLink();
    const base = createLogger(str(v, 'log-level'));
    const logger = link ? base.child({ worker: link.slot }) : base;
    const healthPort = str(v, 'health-port');
    const offline = v['offline'] === true;
    if (!link) {
      const { configSource } = await import('../cluster/config-source.js');
      const given = str(v, 'workers');
      const chosen = given === undefined
        ? workers.defaultWorkers({ clusterView: !offline && configSource(str(v, 'kubeconfig')) !== undefined })
        : { workers: num(v, 'workers'), reason: '--workers' };
      if (chosen.workers < 1) throw new UsageError('--workers must be at least 1', 'serve');
      if (chosen.workers > 1) {
        base.info({ event: 'workers-chosen', workers: chosen.workers, reason: chosen.reason }, `${chosen.workers} workers: ${chosen.reason}`);
        // The development certificate is generated once, here, not by N workers racing for its files.
        if (!str(v, 'cert') && !str(v, 'key')) await (await import('../server/serve.js')).ensureTls({ certDir: str(v, 'cert-dir') as string, logger: base });
        return workers.runPrimary({
          workers: chosen.workers, logger: base, host: str(v, 'host') as string,
          healthPort: healthPort === undefined ? undefined : num(v, 'health-port'),
          drainSeconds: num(v, 'shutdown-delay') + num(v, 'shutdown-timeout'),
        });
      }
    }
    const { serve } = await import('../server/serve.js');
    const stop = await serve({
      policies: str(v, 'policies') as string, host: str(v, 'host') as string, port: num(v, 'port'),
      cert: str(v, 'cert'), key: str(v, 'key'), certDir: str(v, 'cert-dir') as string,
      acceleratorResources: list(str(v, 'accelerator-resources')), shutdownDelay: num(v, 'shutdown-delay'),
      shutdownTimeout: num(v, 'shutdown-timeout'), offline, kubeconfig: str(v, 'kubeconfig'), worker: link,
      // In a worker, --health-port belongs to the primary, which answers it for the whole set.
      clientCa: str(v, 'client-ca'), healthPort: healthPort === undefined || link ? undefined : num(v, 'health-port'),
      certWarnDays: num(v, 'cert-warn-days'), requestTimeout: num(v, 'request-timeout'),
      maxInflightBytes: num(v, 'max-inflight-mib') * 1024 * 1024, maxConnections: num(v, 'max-connections'), logger,
      reviewMemo: num(v, 'review-memo'),
    }).catch((err: unknown) => {
      if (!link) throw err;
      // The IPC channel to the primary would keep a failed worker alive: say it as the CLI does, and exit.
      process.stderr.write(`gpu-admission: ${(err as Error).message}\n`);
      process.exit(err instanceof UserError ? err.exitCode : 1);
    });
    const onSignal = (signal: string) => (): void => {
      logger.info({ event: 'signal', signal }, `received ${signal}`);
      stop().then(() => process.exit(0), (err: unknown) => { logger.error({ err }, 'shutdown failed'); process.exit(1); });
    };
    // A worker can get a signal twice (Ctrl-C reaches the whole process group, and the primary
    // forwards it): a repeated one must not kill the drain with the default action.
    const listen = link ? process.on.bind(process) : process.once.bind(process);
    listen('SIGTERM', onSignal('SIGTERM'));
    listen('SIGINT', onSignal('SIGINT'));
    return new Promise<number>(() => undefined);
  },
};
