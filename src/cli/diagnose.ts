import { existsSync } from 'node:fs';
import { UsageError, UserError } from '../util/errors.js';
import { type Command, list, str, wholeNumber } from './command.js';

export const diagnoseCommand: Command = {
  name: 'diagnose',
  usage: `Usage: gpu-admission diagnose pod/<name> -n <ns> [flags]
       gpu-admission diagnose deployment/<name> -n <ns>     (its newest Pods; also statefulset/, job/,
                                                             or <kind>/<name> of any owner)
       gpu-admission diagnose -n <ns> --pending             (every Pending accelerator Pod)

Why a GPU Pod is Pending or restarting, in the order an engineer checks: the scheduler's latest
FailedScheduling event parsed into its reasons; whether any node advertises the accelerator (and
the device plugin DaemonSet that should make it); free accelerators on the nodes that fit, the Pods
holding them and whether preemption would help; node selection (and the pools the namespace may
use); untolerated taints; scheduling gates and queues (Kueue, Volcano, KAI); the namespace's
ResourceQuota. For a restarting Pod: restarts, last termination (OOMKilled against the memory
limit), and a liveness probe that killed it before start-up, with the startupProbe the namespace
policy would give it. With policies: whether the webhook would now deny the Pod.

Reads only (get and list); the first line of the report is the verdict. See docs/diagnose.md for
the RBAC it needs.`,
  flags: {
    namespace: { type: 'string', short: 'n', default: 'default', arg: '<ns>', help: 'the namespace of the Pod or workload' },
    pending: { type: 'boolean', help: 'every Pending accelerator Pod of the namespace' },
    output: { type: 'string', short: 'o', default: 'text', arg: '<format>', help: 'text or json' },
    policies: { type: 'string', arg: '<dir>', help: 'the policy directory (default: ./policies when it exists; without it\nthe pool and webhook checks are skipped)' },
    'accelerator-resources': { type: 'string', arg: '<list>', help: "extra accelerator resource names, comma-separated, '*' globs allowed" },
    timeout: { type: 'string', default: '30', arg: '<seconds>', help: 'give up reading the cluster after this long' },
    kubeconfig: { type: 'string', arg: '<file>', help: 'the cluster (default: in-cluster, $KUBECONFIG, ~/.kube/config)' },
  },
  footer: `Exit codes: 0 nothing wrong found; 1 a cause found; 2 could not tell, bad flags, no cluster
configuration, a refused read of the target (the message names the missing permission), or timeout.`,
  async run(v, positionals) {
    const output = str(v, 'output');
    if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, got "${output}"`, 'diagnose');
    const pending = v['pending'] === true;
    if (pending && positionals.length > 0) throw new UsageError('--pending diagnoses every Pending Pod: give no pod/<name>', 'diagnose');
    if (!pending && positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give pod/<name>, deployment/<name> (or another <kind>/<name>), or --pending' : 'give one <kind>/<name>', 'diagnose');
    const timeout = wholeNumber('diagnose', 'timeout', str(v, 'timeout') as string);
    if (timeout === 0) throw new UsageError('--timeout must be at least 1 second', 'diagnose');
    const namespace = str(v, 'namespace') as string;

    const { requireKubeConfig } = await import('../cluster/kubeconfig.js');
    const { readContext, readTarget } = await import('../cluster/diagnose-read.js');
    const { diagnose, exitCode, renderText } = await import('../diagnose/report.js');
    const { engineFor, acceleratorMatcher } = await import('../engine/build.js');
    const { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES } = await import('../workload/accelerators.js');
    const extra = list(str(v, 'accelerator-resources'));
    const dir = str(v, 'policies') ?? (existsSync('policies') ? 'policies' : undefined);
    let set;
    if (dir) {
      const { loadPolicyDir } = await import('../server/policy-files.js');
      set = await loadPolicyDir(dir);
    }
    const found = requireKubeConfig(str(v, 'kubeconfig'));

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new UserError(`gave up after ${timeout} s reading the cluster at ${found.kc.getCurrentCluster()?.server ?? found.source} (--timeout)`));
        // Requests still in flight would keep the process alive: once the message is out, exit.
        setTimeout(() => process.exit(2), 1000).unref();
      }, timeout * 1000);
    });
    try {
      const read = (async () => {
        const { target, pods } = await readTarget(found.kc, namespace, pending ? { pending } : { ref: positionals[0] as string });
        const cluster = await readContext(found.kc, namespace);
        return { target, pods, cluster };
      })();
      const { target, pods, cluster } = await Promise.race([read, deadline]);
      const matcher = set ? acceleratorMatcher(set, extra) : new AcceleratorMatcher([...DEFAULT_ACCELERATOR_RESOURCES, ...extra]);
      const engine = set ? engineFor(set, extra, cluster.cache) : undefined;
      const { analyseAccelerators } = await import('../workload/accelerators.js');
      // --pending: accelerator Pods only (the others are not this tool's question).
      const chosen = pending ? pods.filter((p) => p.spec && !p.spec.nodeName && analyseAccelerators(p.spec, matcher).isAcceleratorPod) : pods;
      const report = diagnose(target, chosen, cluster.snapshot, { matcher, ...(set ? { set } : {}), ...(engine ? { engine } : {}) });
      process.stdout.write(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
      return exitCode(report);
    } catch (err) {
      if (err instanceof UserError) throw err;
      const e = err as { code?: string | number; message?: string; cause?: { code?: string } };
      const code = e?.code ?? e?.cause?.code;
      if (typeof code === 'string' && /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|CERT|SELF_SIGNED/.test(code)) {
        throw new UserError(`cannot reach the API server at ${found.kc.getCurrentCluster()?.server ?? found.source}: ${e.message ?? code}`);
      }
      if (/fetch failed|ECONNREFUSED|ENOTFOUND|socket hang up/.test(e?.message ?? '')) throw new UserError(`cannot reach the API server at ${found.kc.getCurrentCluster()?.server ?? found.source}: ${e.message}`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  },
};
