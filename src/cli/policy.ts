/**
 * `gpu-admission policy validate | explain | test | schema | export`: the command and its flags;
 * the work is in cli/policy-run.ts, loaded when the command runs.
 */
import { type Command, helpText } from './command.js';

export const policyCommand: Command = {
  name: 'policy',
  usage: `Usage:
  gpu-admission policy validate [<dir>] [--policies <dir>]
  gpu-admission policy explain <namespace> [--labels k=v,...] [--policies <dir>]
  gpu-admission policy test <files or dirs...> [--policies <dir>]
  gpu-admission policy schema [--out <file>]
  gpu-admission policy export --format vap [--policies <dir>] [-o <file>]

validate   schema and cross-document checks (unknown pools, a default pool outside the allowed
           pools, duplicate names, a namespace named twice, two defaults, exemptions naming unknown
           rule ids, ownerKinds without the controller's users/groups, an exempt policy that does
           not name its namespaces) and overlapping namespace selectors: two policies whose selectors can match the
           same labels (the first by name would govern such a namespace and the other never apply
           there). serve runs the same checks on every load. Every problem is listed in one run.
           Exit 0 valid, 1 invalid.
explain    which policy governs the namespace (by name, by its labels, or as the default) and its
           effective settings: mode, pools, default pool and what Pods receive, start-up budget,
           grace, priority, requirements, mutations, exemptions. Offline, only the namespace's name
           label is known: pass its other labels with --labels.
test       runs every PolicyTest document (recursively: *.yaml, *.yml, *.json) through the webhook's
           engine as \`audit\` does (mutation, then validation of the mutated object) and compares:
             spec.expect.verdict     denied | warned | allowed | skipped
             spec.expect.policy      the NamespacePolicy that governs the namespace
             spec.expect.rules       exactly the rule ids of all findings (denials, warnings, recorded)
             spec.expect.mutations   exactly the mutators that change the object
           spec.namespaceLabels gives the namespace labels. Exit 0 all passed, 1 a test failed,
           2 bad input (invalid PolicyTest documents or policies, no tests found).
schema     the JSON Schema of the policy files (policies/schema.json).
export     --format vap: the admission policy floor, ValidatingAdmissionPolicies and bindings
           (admissionregistration.k8s.io/v1, Kubernetes 1.30+) that the API server enforces
           itself while the webhook is down: a subset of the rules, per NamespacePolicy (see
           docs/admission-policy-floor.md).`,
  flags: {
    policies: { type: 'string', default: 'policies', arg: '<dir>', help: 'the policy directory' },
    labels: { type: 'string', arg: 'k=v,...', help: "explain: the namespace's labels" },
    out: { type: 'string', short: 'o', arg: '<file>', help: 'schema, export: write to this file instead of stdout' },
    format: { type: 'string', arg: '<format>', help: 'export: the output format (vap)' },
  },
  async run(v, positionals) {
    if (positionals.length === 0) {
      console.log(helpText(policyCommand));
      return 0;
    }
    const { runPolicy } = await import('./policy-run.js');
    return runPolicy(v, positionals);
  },
};
