import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

type List = 'containers' | 'initContainers';

/**
 * Copy-on-write replacement of containers in the mutators' shallow copy of a Pod spec: the list
 * and the container that change are replaced, the other containers stay shared with the request.
 */
export class ContainerEdits {
  private readonly lists: Partial<Record<List, V1Container[]>> = {};

  constructor(private readonly spec: V1PodSpec) {}

  replace(list: List, index: number, container: V1Container): void {
    const l = (this.lists[list] ??= [...(this.spec[list] ?? [])]);
    l[index] = container;
  }

  /** Puts the replaced lists into the spec. */
  commit(): void {
    for (const [list, items] of Object.entries(this.lists) as [List, V1Container[]][]) this.spec[list] = items;
  }
}
