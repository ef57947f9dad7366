import { dumpYaml } from '../util/yaml.js';
import type { CertBundle } from './generate.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export const WEBHOOK_CONFIGURATION = 'gpu-admission';
export const MUTATING_WEBHOOK = 'mutate.gpu-admission.io';
export const VALIDATING_WEBHOOK = 'validate.gpu-admission.io';

/** The `kubernetes.io/tls` Secret the Deployment mounts at /tls. */
export function secretManifest(b: CertBundle, name: string, namespace: string, chain: string): string {
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'gpu-admission' } },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(chain), 'tls.key': b64(b.key), 'ca.crt': b64(b.caCert) },
  });
}

/** Strategic-merge patches (webhooks merge by name) that set the caBundle of both configurations. */
export function caBundlePatch(caCert: string): string {
  const caBundle = b64(caCert);
  const doc = (kind: string, webhook: string): string => dumpYaml({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name: WEBHOOK_CONFIGURATION },
    webhooks: [{ name: webhook, clientConfig: { caBundle } }],
  });
  return `${doc('MutatingWebhookConfiguration', MUTATING_WEBHOOK)}---\n${doc('ValidatingWebhookConfiguration', VALIDATING_WEBHOOK)}`;
}
