import { parseDurationSeconds } from '../util/duration.js';
import { UsageError } from '../util/errors.js';
import { type Command, labelList, list, str, wholeNumber } from './command.js';

function duration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = parseDurationSeconds(v);
  if (s === undefined) throw new UsageError(`--${name} must be a duration such as 90s, 15m or 1h30m, got "${v}"`, 'onboard');
  return s;
}

export const onboardCommand: Command = {
  name: 'onboard',
  usage: `Usage: gpu-admission onboard <namespace> --profile <inference|training|batch|notebook> [flags]

Writes what a team needs to use GPUs in a namespace, checked with the webhook's own schema and
engine first: a NamespacePolicy naming the namespace, the Namespace, a ResourceQuota for the pools'
accelerator resources (and, for inference, one scoped to its preempting PriorityClass), a LimitRange
(notebook), and the PriorityClass the policy uses unless the cluster has it. Running it twice
changes nothing. Conflicts are errors with the fix, and nothing is written: another policy already
governs the namespace, unknown pools, a default pool outside the pools, a PriorityClass above
production's (inference-critical), a Pod limit above the quota, a different existing policy or file
(shown field by field, e.g. spec.accelerators.maxPerPod: 8 -> 4).

Profiles (defaults; every one can be overridden by a flag):
  inference  enforce, 8/Pod, quota 16, start-up 15m, grace 2m, inference-critical (1000000, preempts),
             memory limit + CPU request required, priority-scoped quota
  training   enforce, 8/Pod, quota 32, start-up 10m, grace 10m, training-preemptible (10000, never preempts),
             memory limit required
  batch      enforce, 4/Pod, quota 16, start-up 10m, grace 5m, batch-inference (1000, never preempts),
             memory limit required
  notebook   enforce, 1/Pod, quota 4, start-up 5m, grace 1m, notebook-interactive (100, never preempts),
             MIG/shared pools preferred, LimitRange with default CPU/memory requests`,
  flags: {
    profile: { type: 'string', arg: '<name>', help: 'inference, training, batch or notebook (required)' },
    pools: { type: 'string', arg: '<a,b>', help: "GpuPools the namespace may use (default: the profile's preference when\nthe catalogue makes it unambiguous, e.g. the MIG pools for notebooks)" },
    'default-pool': { type: 'string', arg: '<pool>', help: 'where Pods that select no pool go (default: the first of --pools)' },
    'max-gpus-per-pod': { type: 'string', arg: '<n>', help: 'accelerators per Pod' },
    'gpu-quota': { type: 'string', arg: '<n>', help: 'accelerators the namespace may hold at once, per resource' },
    'startup-budget': { type: 'string', arg: '<duration>', help: 'start-up budget of accelerator containers (90s, 15m, 1h)' },
    grace: { type: 'string', arg: '<duration>', help: 'terminationGracePeriodSeconds of accelerator Pods' },
    priority: { type: 'string', arg: '<class>', help: "PriorityClass the namespace's accelerator Pods get" },
    'priority-value': { type: 'string', arg: '<n>', help: 'value of a --priority class that does not exist yet' },
    mode: { type: 'string', arg: '<enforce|warn|audit>', help: "the policy's mode" },
    labels: { type: 'string', arg: 'k=v,...', help: 'extra labels for the Namespace' },
    policies: { type: 'string', default: 'policies', arg: '<dir>', help: 'the GpuPool catalogue and existing policies' },
    out: { type: 'string', arg: '<dir>', help: 'write files instead of printing them: <dir>/<ns>.policy.yaml (use the\npolicy directory: the webhook loads it) and <dir>/manifests/ (the\ncluster objects; the webhook never reads subdirectories)' },
    apply: { type: 'boolean', help: 'server-side apply the cluster objects (field manager gpu-admission);\nthe policy itself is a file for the webhook\'s policy directory' },
    'dry-run': { type: 'string', default: 'none', arg: '<server|none>', help: 'with --apply, server: send everything as a server dry run; nothing is\ncreated and no file is written' },
    kubeconfig: { type: 'string', arg: '<file>', help: 'the cluster (default: in-cluster, $KUBECONFIG, ~/.kube/config); also\nwithout --apply, to leave out PriorityClasses that exist' },
    force: { type: 'boolean', help: 'replace a different existing policy or file, take over a namespace\nanother policy selects by its labels' },
  },
  footer: `Output: without --out, every document as multi-document YAML on stdout. Exit codes: 0 done,
1 a check failed (nothing written or applied) or apply failed, 2 bad flags or unreadable input.`,
  async run(v, positionals) {
    const usage = (m: string): UsageError => new UsageError(m, 'onboard');
    if (positionals.length !== 1) throw usage('onboard takes one namespace: gpu-admission onboard <namespace> --profile <profile>');
    const { isProfileName, PROFILE_NAMES } = await import('../onboard/profiles.js');
    const profile = str(v, 'profile');
    if (!profile || !isProfileName(profile)) throw usage(`--profile must be one of ${PROFILE_NAMES.join(', ')}${profile ? `, got "${profile}"` : ''}`);
    const mode = str(v, 'mode');
    if (mode !== undefined && mode !== 'enforce' && mode !== 'warn' && mode !== 'audit') throw usage(`--mode must be enforce, warn or audit, got "${mode}"`);
    const dryRun = str(v, 'dry-run');
    if (dryRun !== 'none' && dryRun !== 'server') throw usage(`--dry-run must be server or none, got "${dryRun}" (without --apply nothing reaches the cluster anyway)`);
    if (dryRun === 'server' && v['apply'] !== true) throw usage('--dry-run=server goes with --apply');
    const num = (name: string): number | undefined => {
      const x = str(v, name);
      return x === undefined ? undefined : wholeNumber('onboard', name, x);
    };
    const priorityValue = str(v, 'priority-value');
    if (priorityValue !== undefined && !/^-?\d+$/.test(priorityValue)) throw usage(`--priority-value must be a whole number, got "${priorityValue}"`);
    const pools = str(v, 'pools');
    const { onboard } = await import('../onboard/command.js');
    return onboard({
      namespace: positionals[0] as string, profile, pools: pools === undefined ? undefined : list(pools),
      defaultPool: str(v, 'default-pool'), maxGpusPerPod: num('max-gpus-per-pod'), gpuQuota: num('gpu-quota'),
      startupBudgetSeconds: duration('startup-budget', str(v, 'startup-budget')), graceSeconds: duration('grace', str(v, 'grace')),
      priority: str(v, 'priority'), priorityValue: priorityValue === undefined ? undefined : Number(priorityValue), mode,
      labels: labelList('onboard', str(v, 'labels')), policies: str(v, 'policies') as string, out: str(v, 'out'), apply: v['apply'] === true,
      dryRun: dryRun === 'server', force: v['force'] === true, kubeconfig: str(v, 'kubeconfig'),
      stdout: process.stdout, stderr: process.stderr,
    });
  },
};
