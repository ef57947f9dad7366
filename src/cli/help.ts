export const HELP: Record<string, string> = {
  main: `gpu-admission — Kubernetes admission webhook for GPU and accelerator workloads

Usage: gpu-admission <command> [flags]

Commands:
  serve              run the HTTPS admission webhook (POST /mutate, POST /validate)
  audit              dry-run the policies over manifests (files, directories, stdin)
  policy validate    check a policy directory and print what it defines
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
  gpu-admission policy validate [--policies <dir>]   exit 0 valid, 2 invalid (every problem printed)
  gpu-admission policy schema [--out <file>]         the JSON Schema (policies/schema.json)`,
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
