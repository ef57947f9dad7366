import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type ConfigSource = { kind: 'in-cluster' } | { kind: 'file'; path: string };

/**
 * Where the cluster configuration comes from: --kubeconfig, else the in-cluster service account,
 * else $KUBECONFIG, else ~/.kube/config. Found without loading client-node.
 */
export function configSource(explicit?: string): ConfigSource | undefined {
  if (explicit) return { kind: 'file', path: explicit };
  if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return { kind: 'in-cluster' };
  const home = join(homedir(), '.kube', 'config');
  const path = process.env['KUBECONFIG']?.split(':').find((f) => f && existsSync(f)) ?? (existsSync(home) ? home : undefined);
  return path ? { kind: 'file', path } : undefined;
}
