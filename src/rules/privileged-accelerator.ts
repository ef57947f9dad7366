import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { containerRefs } from '../workload/accelerators.js';
import { acceleratorReach, at, fail, finding, skip } from './util.js';

const ID = 'privileged-accelerator';

/**
 * A privileged container gets every device node of the host (the runtime does not filter /dev),
 * so every GPU of the node whatever it requests; SYS_ADMIN lets it mount and reach devices, and
 * `ALL` includes SYS_ADMIN. The runtimes accept the names with or without the CAP_ prefix.
 */
export const DANGEROUS = new Set(['SYS_ADMIN', 'ALL']);

function capName(c: unknown): string | undefined {
  if (typeof c !== 'string') return undefined;
  const up = c.trim().toUpperCase();
  return up.startsWith('CAP_') ? up.slice(4) : up;
}

function check(a: PodAnalysis): RuleResult {
  if (!a.policy.deviceIsolation.privileged) return skip('the policy turns privileged-accelerator off (spec.deviceIsolation.privileged)');
  if (a.target.partial) return skip('node selection and tolerations live elsewhere (partial template)');
  const reach = acceleratorReach(a);
  if (!reach) return skip('the Pod can reach no accelerator (no request, no GPU pool it may land on)');
  const out: Finding[] = [];
  for (const ref of containerRefs(a.target.spec, a.target.containerPaths)) {
    const sc = ref.container.securityContext;
    if (!sc || typeof sc !== 'object') continue;
    const name = ref.container.name ?? ref.path;
    if (sc.privileged === true) {
      out.push(finding(ID, at(a, `${ref.path}.securityContext.privileged`),
        `container "${name}" is privileged and ${reach}: a privileged container sees every device of the node, every GPU included`,
        'remove securityContext.privileged (request the accelerators as resources.limits); node agents belong in a namespace of an exempt NamespacePolicy'));
    }
    const add = Array.isArray(sc.capabilities?.add) ? sc.capabilities.add : [];
    add.forEach((c, i) => {
      const cap = capName(c);
      if (!cap || !DANGEROUS.has(cap)) return;
      out.push(finding(ID, at(a, `${ref.path}.securityContext.capabilities.add[${i}]`),
        `container "${name}" adds capability ${String(c)} and ${reach}: ${cap === 'ALL' ? 'ALL includes SYS_ADMIN, which' : 'SYS_ADMIN'} can reach the node's devices past the device plugin`,
        'remove the capability (add only the narrow ones the workload needs, e.g. IPC_LOCK for RDMA); node agents belong in a namespace of an exempt NamespacePolicy'));
    });
  }
  return fail(out);
}

export const privilegedAccelerator: Rule = {
  id: ID,
  summary: 'No privileged container, nor SYS_ADMIN / ALL capabilities, in Pods that request accelerators or can land on GPU pools',
  fix: 'Remove securityContext.privileged and the SYS_ADMIN / ALL capabilities; request accelerators as resource limits',
  check,
};
