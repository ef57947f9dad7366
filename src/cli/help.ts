export const HELP: Record<string, string> = {
  main: `gpu-admission — Kubernetes admission webhook for GPU and accelerator workloads

Usage: gpu-admission <command> [flags]

Commands:
  serve              run the HTTPS admission webhook (POST /mutate, POST /validate)
  audit              dry-run the policies over manifests (files, directories, stdin)
  onboard            give a namespace GPUs: NamespacePolicy, Namespace, ResourceQuota, PriorityClass
  policy validate    check a policy directory and print what it defines
  policy explain     which policy governs a namespace, and what that means, in plain words
  policy test        run PolicyTest cases against the policies
  policy schema      print (or write) the JSON Schema of the policy files
  certs              generate a CA and a serving certificate for the webhook Service
  pools discover     print GpuPool documents for the accelerator node groups of a cluster

Run 'gpu-admission <command> --help' for the flags of a command.
Global flags: --help, --version`,
  serve: `Usage: gpu-admission serve [flags]

Runs the webhook over HTTPS (TLS >= 1.2, HTTP/1.1 keep-alive).

Flags:
  --policies <dir>               policy directory, watched and reloaded on change (default: policies)
  --host <addr>                  address to listen on (default: 0.0.0.0)
  --port <n>                     port to listen on (default: 8443)
  --cert <file>, --key <file>    serving certificate and key (PEM); without them a self-signed
                                 development certificate is generated into --cert-dir
  --cert-dir <dir>               where the development certificate lives (default: certs)
  --accelerator-resources <list> extra accelerator resource names, comma-separated, '*' globs allowed
                                 (added to the built-in list and the pools' resources)
  --shutdown-delay <seconds>     on SIGTERM, report not ready and keep serving this long (default: 5)
  --shutdown-timeout <seconds>   then give in-flight reviews this long to finish (default: 10)
  --cert-warn-days <days>        warn when the serving certificate expires within this many days (default: 30)
  --client-ca <file>             require and verify a client certificate (the API server's) signed by
                                 this CA on the review port; pair it with --health-port for probes
  --health-port <n>              also serve /healthz, /readyz and /metrics over plain HTTP on this port
                                 (never the review endpoints); off by default
  --kubeconfig <file>            kubeconfig for the cluster view (default: in-cluster service account,
                                 then $KUBECONFIG, then ~/.kube/config)
  --offline                      do not watch the cluster: judge from policy files only (also the
                                 behaviour when no configuration exists)
  --log-level <level>            trace|debug|info|warn|error (default: info, or $LOG_LEVEL)

The certificate and key are reloaded when their files change (a Secret mount, cert-manager),
without dropping open connections.
Signals: SIGHUP reloads policies; SIGTERM/SIGINT drain and stop.`,
  policy: `Usage:
  gpu-admission policy validate [<dir>] [--policies <dir>]
  gpu-admission policy explain <namespace> [--labels k=v,...] [--policies <dir>]
  gpu-admission policy test <files or dirs...> [--policies <dir>]
  gpu-admission policy schema [--out <file>]

validate   schema and cross-document checks (unknown pools, a default pool outside the allowed
           pools, duplicate names, a namespace named twice, two defaults) and overlapping namespace
           selectors: two policies whose selectors can match the same labels (the first by name
           would govern such a namespace and the other never apply there). Every problem is listed.
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

Flags:
  --policies <dir>      the policy directory (default: policies)
  --labels k=v,...      explain: the namespace's labels
  --out <file>          schema: write to this file instead of stdout`,
  onboard: `Usage: gpu-admission onboard <namespace> --profile <inference|training|batch|notebook> [flags]

Writes what a team needs to use GPUs in a namespace, checked with the webhook's own schema and
engine first: a NamespacePolicy naming the namespace, the Namespace, a ResourceQuota for the pools'
accelerator resources (and, for inference, one scoped to its preempting PriorityClass), a LimitRange
(notebook), and the PriorityClass the policy uses unless the cluster has it. Running it twice
changes nothing. Conflicts are errors with the fix, and nothing is written: another policy already
governs the namespace, unknown pools, a default pool outside the pools, a PriorityClass above
production's (inference-critical), a Pod limit above the quota, a different existing policy or file.

Profiles (defaults; every one can be overridden by a flag):
  inference  enforce, 8/Pod, quota 16, start-up 15m, grace 2m, inference-critical (1000000, preempts),
             memory limit + CPU request required, priority-scoped quota
  training   enforce, 8/Pod, quota 32, start-up 10m, grace 10m, training-preemptible (10000, never preempts),
             memory limit required
  batch      enforce, 4/Pod, quota 16, start-up 10m, grace 5m, batch-inference (1000, never preempts),
             memory limit required
  notebook   enforce, 1/Pod, quota 4, start-up 5m, grace 1m, notebook-interactive (100, never preempts),
             MIG/shared pools preferred, LimitRange with default CPU/memory requests

Flags:
  --profile <name>             inference, training, batch or notebook (required)
  --pools <a,b>                GpuPools the namespace may use (default: the profile's preference when
                               the catalogue makes it unambiguous, e.g. the MIG pools for notebooks)
  --default-pool <pool>        where Pods that select no pool go (default: the first of --pools)
  --max-gpus-per-pod <n>       accelerators per Pod
  --gpu-quota <n>              accelerators the namespace may hold at once, per resource
  --startup-budget <duration>  start-up budget of accelerator containers (90s, 15m, 1h)
  --grace <duration>           terminationGracePeriodSeconds of accelerator Pods
  --priority <class>           PriorityClass the namespace's accelerator Pods get
  --priority-value <n>         value of a --priority class that does not exist yet
  --mode <enforce|warn|audit>  the policy's mode
  --labels k=v,...             extra labels for the Namespace
  --policies <dir>             the GpuPool catalogue and existing policies (default: policies)
  --out <dir>                  write files instead of printing them: <dir>/<ns>.policy.yaml (use the
                               policy directory: the webhook loads it) and <dir>/manifests/ (the
                               cluster objects; the webhook never reads subdirectories)
  --apply                      server-side apply the cluster objects (field manager gpu-admission);
                               the policy itself is a file for the webhook's policy directory
  --dry-run=server             with --apply: send everything as a server dry run; nothing is created
                               and no file is written
  --kubeconfig <file>          the cluster (default: in-cluster, $KUBECONFIG, ~/.kube/config); also
                               without --apply, to leave out PriorityClasses that exist
  --force                      replace a different existing policy or file, take over a namespace
                               another policy selects by its labels

Output: without --out, every document as multi-document YAML on stdout. Exit codes: 0 done,
1 a check failed (nothing written or applied) or apply failed, 2 bad flags or unreadable input.`,
  audit: `Usage: gpu-admission audit [paths... | -] [--policies policies] [--namespace default]
                          [-o table|json|yaml|junit|sarif|policyreport] [--fail-on deny|warn]

Runs the webhook's engine over manifests, as the API server would call it on create: mutation
first, then validation of the mutated object. Reads files, directories (recursively: *.yaml,
*.yml, *.json) and stdin ('-' or no path), so 'helm template ... | gpu-admission audit' works.
Multi-document YAML and List objects are read; objects without a namespace use --namespace.
Namespace and ResourceClaimTemplate objects in the input inform the audit as a cluster would.

For every Pod and Pod-template object: the governing policy, each violation (rule, path, message,
fix), each warning, and the mutations the webhook would apply (a readable diff; the JSON Patch in
json/yaml output).

Output formats:
  table         for people, grouped by file (colour on a terminal; NO_COLOR turns it off)
  json, yaml    the AuditReport: {apiVersion, kind, policies, summary, results[]}
  junit         one test case per object
  sarif         SARIF 2.1.0 with file and line, for code-scanning UIs
  policyreport  wgpolicyk8s.io/v1alpha2 PolicyReport documents, one per namespace

Live cluster:
  gpu-admission audit --cluster [--namespace <ns> | --all-namespaces | -A] [--write-reports] [--kubeconfig <f>]
Lists Pods and Pod-template objects (paged; CRDs that are not installed are skipped) and judges
them with the live namespace labels, claim templates and PriorityClasses. --write-reports creates
or updates one PolicyReport per namespace by server-side apply (field manager gpu-admission);
without the PolicyReport CRD it says so: kubectl apply -f manifests/policyreport-crd.yaml.

Exit codes: 0 nothing denied; 1 something would be denied (or warned, with --fail-on warn);
2 bad input (unparseable YAML with file and line, unknown flag, invalid policies, missing CRD).`,
  pools: `Usage: gpu-admission pools discover [--kubeconfig <file>] [--accelerator-resources <list>]

Lists the cluster's nodes and prints one GpuPool document per group of accelerator nodes that share
identifying labels (GPU Feature Discovery, GKE, Karpenter, AKS, node group) and taints, with the
accelerator resources they offer and the smallest per-node count as maxPerPod. Review and save them
into your policy directory.`,
  certs: `Usage: gpu-admission certs [--service gpu-admission] [--namespace gpu-admission] [--out certs]
                          [--extra-names localhost,127.0.0.1] [--days 365] [--secret-name gpu-admission-tls]
                          [--kustomize <overlay dir>] [--print-patch] [--reuse-ca]

Creates a CA and a serving certificate for <svc>, <svc>.<ns>, <svc>.<ns>.svc and
<svc>.<ns>.svc.cluster.local plus the extra names, and writes into --out:
  ca.crt, tls.crt (certificate + CA chain), tls.key, secret.yaml (the kubernetes.io/tls Secret)
--kustomize <dir>   also writes secret.yaml and cabundle-patch.yaml (the caBundle of both webhook
                    configurations) into a kustomize overlay, e.g. manifests/overlays/builtin-certs
--print-patch       print the caBundle patch to stdout instead of the summary
--reuse-ca          sign the new serving certificate with ca.crt/ca.key from an earlier run in
                    --out: rotation without touching the caBundle the API server trusts
ca.key is written with mode 0600: keep it out of the cluster and out of version control.`,
};
