import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { globMatch } from '../util/glob.js';
import { at, fail, finding, skip } from './util.js';

const ID = 'accelerator-allowed';

function check(a: PodAnalysis): RuleResult {
  const { accelerators } = a.policy;
  if (a.acc.uses.length === 0 && (accelerators.allowed || a.acc.claims.length === 0)) return skip('the Pod requests no accelerator');
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const u of a.acc.uses) {
    const path = at(a, `${u.ref.resourcesPath}.${u.hasLimit ? 'limits' : 'requests'}[${u.resource}]`);
    const name = u.ref.container.name ?? u.ref.path;
    if (!accelerators.allowed) {
      out.push(finding(ID, path, `namespace ${a.namespace} may not use accelerators, but container "${name}" requests ${u.resource}`,
        'remove the accelerator request, or run the workload in a namespace whose policy allows accelerators'));
      continue;
    }
    const allowed = accelerators.resources;
    if (allowed.length > 0 && !allowed.some((p) => globMatch(p, u.resource)) && !seen.has(path)) {
      seen.add(path);
      out.push(finding(ID, path, `container "${name}" requests ${u.resource}, which namespace ${a.namespace} may not use`,
        `request one of: ${allowed.join(', ')}`));
    }
  }
  if (!accelerators.allowed) {
    for (const c of a.acc.claims) {
      out.push(finding(ID, at(a, c.path), `namespace ${a.namespace} may not use accelerators, but resource claim "${c.name}" (${c.kind} ${c.ref}) allocates ${c.deviceClasses ? c.deviceClasses.join(', ') : 'devices'}`,
        'remove the resource claim, or run the workload in a namespace whose policy allows accelerators'));
    }
  }
  return fail(out);
}

export const acceleratorAllowed: Rule = {
  id: ID,
  summary: 'Only namespaces that allow accelerators may request them, and only the allowed resources',
  fix: 'Remove the request or run it in a namespace whose policy allows that accelerator',
  check,
};
