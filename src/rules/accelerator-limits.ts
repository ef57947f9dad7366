import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';
import { at, fail, finding, quote, skip } from './util.js';

const ID = 'accelerator-limits';

function check(a: PodAnalysis): RuleResult {
  if (a.acc.uses.length === 0) return skip('no container requests an accelerator resource');
  const out: Finding[] = [];
  for (const u of a.acc.uses) {
    const base = `${u.ref.resourcesPath}`;
    const name = u.ref.container.name ?? u.ref.path;
    if (u.hasRequest && !u.hasLimit) {
      out.push(finding(ID, at(a, `${base}.limits[${u.resource}]`),
        `container "${name}" requests ${u.resource} without a limit; extended resources are allocated by their limit`,
        `set resources.limits["${u.resource}"] to ${quote(u.request)}`));
      continue;
    }
    const limit = parseQuantity(u.limit);
    if (!isPositiveInteger(limit)) {
      out.push(finding(ID, at(a, `${base}.limits[${u.resource}]`),
        `container "${name}" limit ${quote(u.limit)} for ${u.resource} is not a positive whole number of devices`,
        `set a whole number of at least 1, e.g. "1", or remove ${u.resource} if the container needs no accelerator`));
      continue;
    }
    if (u.hasRequest && parseQuantity(u.request) !== limit) {
      out.push(finding(ID, at(a, `${base}.requests[${u.resource}]`),
        `container "${name}" requests ${quote(u.request)} but limits ${quote(u.limit)} of ${u.resource}; extended resources cannot be overcommitted`,
        `make the request equal to the limit (${quote(u.limit)}) or drop the request`));
    }
  }
  return fail(out);
}

export const acceleratorLimits: Rule = {
  id: ID,
  summary: 'Accelerator requests need an equal limit that is a positive whole number',
  fix: 'Set limits to a positive whole number, equal to the request where both are set',
  check,
};
