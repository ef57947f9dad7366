// dist/config.js rather than the package index: the serve path loads KubeConfig without the
// generated APIs (slim-client.ts); the same class the index exports.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ClusterConfigError } from '../util/errors.js';
import { configSource } from './config-source.js';

export interface KubeConfigChoice {
  kc: KubeConfig;
  source: string;
}

/** The KubeConfig for configSource()'s choice; undefined when none exists. */
export function findKubeConfig(explicit?: string): KubeConfigChoice | undefined {
  const source = configSource(explicit);
  if (!source) return undefined;
  const kc = new KubeConfig();
  if (source.kind === 'in-cluster') {
    kc.loadFromCluster();
    return { kc, source: 'in-cluster service account' };
  }
  kc.loadFromFile(source.path);
  return { kc, source: source.path };
}

/** The KubeConfig, or a ClusterConfigError telling the user how to give one. */
export function requireKubeConfig(explicit?: string): KubeConfigChoice {
  const found = findKubeConfig(explicit);
  if (!found) throw new ClusterConfigError();
  return found;
}
