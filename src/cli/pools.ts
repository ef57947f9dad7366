import { type Command, helpText, list, str } from './command.js';
import { UsageError } from '../util/errors.js';

export const poolsCommand: Command = {
  name: 'pools',
  usage: `Usage: gpu-admission pools discover [flags]

Lists the cluster's nodes and prints one GpuPool document per group of accelerator nodes that share
identifying labels (GPU Feature Discovery, GKE, Karpenter, AKS, node group) and taints, with the
accelerator resources they offer and the smallest per-node count as maxPerPod. Review and save them
into your policy directory.`,
  flags: {
    kubeconfig: { type: 'string', arg: '<file>', help: 'the cluster (default: in-cluster, $KUBECONFIG, ~/.kube/config)' },
    'accelerator-resources': { type: 'string', arg: '<list>', help: "extra accelerator resource names, comma-separated, '*' globs allowed" },
  },
  footer: 'Exit codes: 0 pools printed; 1 no node offers an accelerator; 2 bad flags or no cluster configuration.',
  async run(v, positionals) {
    if (positionals.length === 0) {
      console.log(helpText(poolsCommand));
      return 0;
    }
    if (positionals[0] !== 'discover' || positionals.length > 1) throw new UsageError(positionals[0] ? `unknown pools command "${positionals.join(' ')}"` : 'pools needs a subcommand: discover', 'pools');
    const { requireKubeConfig } = await import('../cluster/kubeconfig.js');
    const found = requireKubeConfig(str(v, 'kubeconfig'));
    const [{ discoverPools, poolDocuments, readNodes }, { dumpYaml }, { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES }] = await Promise.all([
      import('../cluster/discover.js'), import('../util/yaml.js'), import('../workload/accelerators.js'),
    ]);
    const nodes = await readNodes(found.kc);
    const matcher = new AcceleratorMatcher([...DEFAULT_ACCELERATOR_RESOURCES, ...list(str(v, 'accelerator-resources'))]);
    const pools = discoverPools(nodes, matcher);
    if (pools.length === 0) {
      console.error(`no node of ${nodes.length} offers an accelerator resource`);
      return 1;
    }
    process.stdout.write(`# GpuPools discovered from ${nodes.length} nodes of ${found.kc.getCurrentCluster()?.server ?? found.source}: review the names and labels\n`);
    process.stdout.write(poolDocuments(pools).map((d) => dumpYaml(d)).join('---\n'));
    return 0;
  },
};
