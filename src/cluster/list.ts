import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

/** Objects per LIST page, for every paged list of the program. */
export const PAGE_SIZE = 500;

/**
 * Every object of a kind, read in pages of PAGE_SIZE (`limit` / `continue`) through the generated client (discovery finds the resource of a kind), each with apiVersion and
 * kind set; optionally only those the field and label selectors match.
 */
export async function listAll(kc: KubeConfig, apiVersion: string, kind: string, namespace?: string, selectors: { field?: string; label?: string } = {}): Promise<KubernetesObject[]> {
  const { KubernetesObjectApi } = await import('@kubernetes/client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  const items: KubernetesObject[] = [];
  let token: string | undefined;
  do {
    const page = await api.list(apiVersion, kind, namespace, undefined, undefined, undefined, selectors.field, selectors.label, PAGE_SIZE, token);
    items.push(...page.items.map((i) => ({ apiVersion, kind, ...i })));
    token = page.metadata?._continue || undefined;
  } while (token);
  return items;
}
