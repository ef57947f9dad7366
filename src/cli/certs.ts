import { type Command, list, str, wholeNumber } from './command.js';

export const certsCommand: Command = {
  name: 'certs',
  usage: `Usage: gpu-admission certs [flags]

Creates a CA and a serving certificate for <svc>, <svc>.<ns>, <svc>.<ns>.svc and
<svc>.<ns>.svc.cluster.local plus the extra names, and writes into --out:
  ca.crt, tls.crt (certificate + CA chain), tls.key, secret.yaml (the kubernetes.io/tls Secret), ca.key`,
  flags: {
    service: { type: 'string', default: 'gpu-admission', arg: '<name>', help: 'the webhook Service' },
    namespace: { type: 'string', default: 'gpu-admission', arg: '<ns>', help: "the Service's namespace" },
    out: { type: 'string', default: 'certs', arg: '<dir>', help: 'where the files are written' },
    'extra-names': { type: 'string', default: 'localhost,127.0.0.1', arg: '<list>', help: 'extra DNS names and IPs, comma-separated' },
    days: { type: 'string', default: '365', arg: '<n>', help: 'validity of the serving certificate' },
    'secret-name': { type: 'string', default: 'gpu-admission-tls', arg: '<name>', help: 'name of the Secret in secret.yaml' },
    kustomize: { type: 'string', arg: '<dir>', help: 'also write secret.yaml and cabundle-patch.yaml (the caBundle of both webhook\nconfigurations) into a kustomize overlay, e.g. manifests/overlays/builtin-certs' },
    'print-patch': { type: 'boolean', help: 'print the caBundle patch to stdout instead of the summary' },
    'reuse-ca': { type: 'boolean', help: 'sign the new serving certificate with ca.crt/ca.key from an earlier run in\n--out: rotation without touching the caBundle the API server trusts' },
  },
  footer: 'ca.key is written with mode 0600: keep it out of the cluster and out of version control.',
  async run(v) {
    const request = {
      service: str(v, 'service') as string, namespace: str(v, 'namespace') as string, extraNames: list(str(v, 'extra-names')),
      days: wholeNumber('certs', 'days', str(v, 'days') as string), secretName: str(v, 'secret-name') as string, out: str(v, 'out') as string,
      kustomize: str(v, 'kustomize'), reuseCa: v['reuse-ca'] === true,
    };
    const [{ serviceNames }, { writeCertFiles }] = await Promise.all([import('../certs/generate.js'), import('../certs/write.js')]);
    const { written, patch } = await writeCertFiles(request);
    if (v['print-patch'] === true) process.stdout.write(patch);
    else console.log(`wrote ${written.join(', ')}\nnames: ${serviceNames(request).join(', ')}`);
    return 0;
  },
};
