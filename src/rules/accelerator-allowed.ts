import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { globMatch } from '../util/glob.js';
import { at, fail, finding, skip } from './util.js';

const ID = 'accelerator-allowed';

function check(a: PodAnalysis): RuleResult {
  const { accelerators } = a.policy;
  const { fractions } = a.acc;
  const unknownClaims = a.acc.unclassified.filter((c) => !c.accelerator);
  if (a.acc.uses.length === 0 && fractions.length === 0 && unknownClaims.length === 0 && (accelerators.allowed || a.acc.claims.length === 0)) {
    return skip('the Pod requests no accelerator');
  }
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
  for (const f of fractions) {
    const what = `annotation ${f.key}: ${JSON.stringify(f.value)} requests a share of ${f.resource} (KAI-Scheduler GPU sharing)`;
    if (!accelerators.allowed) {
      out.push(finding(ID, f.path, `namespace ${a.namespace} may not use accelerators, but ${what}`,
        `remove the ${f.key} annotation, or run the workload in a namespace whose policy allows accelerators`));
    } else if (accelerators.resources.length > 0 && !accelerators.resources.some((p) => globMatch(p, f.resource))) {
      out.push(finding(ID, f.path, `${what}, which namespace ${a.namespace} may not use`, `request one of: ${accelerators.resources.join(', ')}`));
    }
  }
  // Not counted, so not denied: but never silent.
  for (const c of unknownClaims) {
    out.push({ ...finding(ID, at(a, c.path), `resource claim "${c.name}" (${c.kind} ${c.ref}) cannot be classified: its device class is unknown here, so it is not counted as an accelerator`,
      a.policy.accelerators.assumeClaimsAreAccelerators
        ? 'judge it with a cluster view (the webhook watches claims), or give the audit the claim and its DeviceClass'
        : 'judge it with a cluster view (or give the audit the claim and its DeviceClass), or set accelerators.assumeClaimsAreAccelerators: true'), advisory: true });
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
