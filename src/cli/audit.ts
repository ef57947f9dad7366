import { EXCLUDED_NAMESPACES } from '../admission/exclusions.js';
import { UsageError } from '../util/errors.js';
import { type Command, list, str } from './command.js';
import { version } from './version.js';

export const auditCommand: Command = {
  name: 'audit',
  usage: `Usage: gpu-admission audit [paths... | -] [flags]
       gpu-admission audit --cluster [--namespace <ns> | --all-namespaces] [--write-reports] [flags]

Runs the webhook's engine over manifests, as the API server would call it on create: mutation
first, then validation of the mutated object. Reads files, directories (recursively: *.yaml,
*.yml, *.json) and stdin ('-' or no path), so 'helm template ... | gpu-admission audit' works.
Multi-document YAML and List objects are read; objects without a namespace use --namespace.
Namespace and ResourceClaimTemplate objects in the input inform the audit as a cluster would.

For every Pod and Pod-template object: the governing policy, each violation (rule, path, message,
fix), each warning, and the mutations the webhook would apply (a readable diff; the JSON Patch in
json/yaml output); for a template also the patch each of its Pods will receive (podPatches).
Objects in namespaces the shipped webhook configurations never send (--excluded-namespaces) are
reported as excluded, not judged. Fields written as null are read as left out, as the API server
reads them.

Output formats (-o):
  table         for people, grouped by file (colour on a terminal; NO_COLOR turns it off)
  json, yaml    the AuditReport: {apiVersion, kind, policies, summary, results[]}
  junit         one test case per object
  sarif         SARIF 2.1.0 with file and line (paths relative to the working directory)
  policyreport  wgpolicyk8s.io/v1alpha2 PolicyReport documents, one per namespace

Live cluster (--cluster): lists Pods and Pod-template objects (paged; CRDs that are not installed
are skipped) and judges them with the live namespace labels, claim templates and PriorityClasses.
--write-reports creates or updates one PolicyReport per namespace by server-side apply (field
manager gpu-admission); without the PolicyReport CRD it says so:
kubectl apply -f manifests/policyreport-crd.yaml.`,
  flags: {
    policies: { type: 'string', default: 'policies', arg: '<dir>', help: 'the policy directory' },
    namespace: { type: 'string', default: 'default', arg: '<ns>', help: 'namespace of objects that name none;\nwith --cluster, the namespace to list' },
    output: { type: 'string', short: 'o', default: 'table', arg: '<format>', help: 'table, json, yaml, junit, sarif or policyreport' },
    'fail-on': { type: 'string', default: 'deny', arg: '<deny|warn>', help: 'exit 1 when something would be denied, or also when warned' },
    'accelerator-resources': { type: 'string', arg: '<list>', help: "extra accelerator resource names, comma-separated, '*' globs allowed\n(as serve --accelerator-resources)" },
    'excluded-namespaces': {
      type: 'string', default: EXCLUDED_NAMESPACES.join(','), arg: '<list>',
      help: "namespaces the webhook never sees (the shipped webhooks' namespaceSelector), comma-separated;\ntheir objects are reported as excluded, not judged ('' judges every namespace)",
    },
    'template-patches': { type: 'boolean', help: 'judge as if every policy had mutations.templates: true (templates patched,\nshown as their diff), without editing the policy files' },
    cluster: { type: 'boolean', help: 'audit the live cluster instead of manifests' },
    'all-namespaces': { type: 'boolean', short: 'A', help: 'with --cluster: every namespace' },
    'write-reports': { type: 'boolean', help: 'with --cluster: write one PolicyReport per namespace (server-side apply)' },
    kubeconfig: { type: 'string', arg: '<file>', help: 'with --cluster: the cluster (default: in-cluster, $KUBECONFIG, ~/.kube/config)' },
    'suggest-pdbs': { type: 'boolean', help: 'print a PodDisruptionBudget (YAML) for each multi-replica accelerator workload\nthat has none (rule disruption-budget), instead of the report' },
  },
  footer: `Exit codes: 0 nothing denied; 1 something would be denied (or warned, with --fail-on warn);
2 bad input (unparseable YAML with file and line, unknown flag, invalid policies, missing CRD).`,
  async run(v, positionals) {
    const failOn = str(v, 'fail-on');
    if (failOn !== 'deny' && failOn !== 'warn') throw new UsageError(`--fail-on must be deny or warn, got "${failOn}"`, 'audit');
    const { auditCluster, auditManifests } = await import('../audit/command.js');
    const { createLogger } = await import('../server/logger.js');
    const common = {
      policies: str(v, 'policies') as string, output: str(v, 'output') as string, failOn: failOn as 'deny' | 'warn',
      acceleratorResources: list(str(v, 'accelerator-resources')), version: version(), stdout: process.stdout, stderr: process.stderr,
      excludedNamespaces: list(str(v, 'excluded-namespaces')), templatePatches: v['template-patches'] === true,
      suggestPdbs: v['suggest-pdbs'] === true,
    };
    if (v['cluster'] === true) {
      if (positionals.length > 0) throw new UsageError('--cluster audits the live cluster: give no paths', 'audit');
      return auditCluster({
        ...common, namespace: str(v, 'namespace'), allNamespaces: v['all-namespaces'] === true,
        writeReports: v['write-reports'] === true, kubeconfig: str(v, 'kubeconfig'), logger: createLogger('warn', process.stderr),
      });
    }
    if (v['write-reports'] === true || v['all-namespaces'] === true) throw new UsageError('--write-reports and --all-namespaces go with --cluster', 'audit');
    return auditManifests({ ...common, paths: positionals, namespace: str(v, 'namespace') as string });
  },
};
