/**
 * Namespaces the shipped webhook configurations never send to the webhook: the `namespaceSelector`
 * of both webhooks in manifests/base/webhooks.yaml (`kubernetes.io/metadata.name NotIn [...]`).
 * The control plane's own namespaces, and the webhook's namespace (no chicken-and-egg with its own
 * Pods). test/manifests.test.ts checks that the manifests exclude exactly these.
 */
export const EXCLUDED_NAMESPACES: readonly string[] = ['kube-system', 'kube-node-lease', 'gpu-admission'];

/** How the audit reports an object the webhook never sees. */
export const EXCLUDED_REASON = 'excluded (the webhook never sees this namespace)';
