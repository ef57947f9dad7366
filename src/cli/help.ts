export const HELP: Record<string, string> = {
  main: `gpu-admission — Kubernetes admission webhook for GPU and accelerator workloads

Usage: gpu-admission <command> [flags]

Commands:
  serve              run the HTTPS admission webhook (POST /mutate, POST /validate)
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
  pools: `Usage: gpu-admission pools discover [--kubeconfig <file>] [--accelerator-resources <list>]

Lists the cluster's nodes and prints one GpuPool document per group of accelerator nodes that share
identifying labels (GPU Feature Discovery, GKE, Karpenter, AKS, node group) and taints, with the
accelerator resources they offer and the smallest per-node count as maxPerPod. Review and save them
into your policy directory.`,
  certs: `Usage: gpu-admission certs [--service gpu-admission] [--namespace gpu-admission] [--out certs]
                          [--extra-names localhost,127.0.0.1] [--days 365] [--secret-name gpu-admission-tls]
                          [--kustomize <overlay dir>] [--print-patch]

Creates a CA and a serving certificate for <svc>, <svc>.<ns>, <svc>.<ns>.svc and
<svc>.<ns>.svc.cluster.local plus the extra names, and writes into --out:
  ca.crt, tls.crt (certificate + CA chain), tls.key, secret.yaml (the kubernetes.io/tls Secret)
--kustomize <dir>   also writes secret.yaml and cabundle-patch.yaml (the caBundle of both webhook
                    configurations) into a kustomize overlay, e.g. manifests/overlays/builtin-certs
--print-patch       print the caBundle patch to stdout instead of the summary`,
};
