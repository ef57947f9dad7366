import type { V1Container } from '@kubernetes/client-node';
import type { FillDefault, OperatorFills } from './kinds.js';
import type { PodSpecTarget } from './target.js';

export type FillField = 'readinessProbe' | 'livenessProbe' | 'memoryLimit' | 'cpuRequest';

export interface Filled {
  operator: string;
  fill: FillDefault;
}

interface ContainerAt {
  container: V1Container;
  list: string;
  index: number;
}

function receives(fills: OperatorFills, ref: ContainerAt): boolean {
  if (ref.list !== 'containers') return false;
  if (fills.containers === 'all') return true;
  if (fills.containers === 'first') return ref.index === 0;
  return typeof ref.container.name === 'string' && fills.containers.names.includes(ref.container.name);
}

/** The default the kind's operator writes into this container's field, if the kind table records one. */
export function filledBy(target: PodSpecTarget, ref: ContainerAt, field: FillField): Filled | undefined {
  const fills = target.fills;
  const fill = fills?.[field];
  if (!fills || !fill || !receives(fills, ref)) return undefined;
  return { operator: fills.operator, fill };
}

/** The advisory text for a requirement an operator fills: what the Pods will receive, and that they are judged then. */
export function filledMessage(container: string, missing: string, f: Filled): string {
  return `accelerator container "${container}" has no ${missing}; ${f.operator} adds ${f.fill.what} to its Pods (judged when created)`;
}
