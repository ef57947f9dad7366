import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { ACCELERATOR_LABEL_KEYS } from '../scheduling/pools.js';
import { type Conflict, describeRequirement, findConflict } from '../scheduling/selectors.js';
import { fail, finding, pass, skip } from './util.js';

const ID = 'node-selection';

function concernsAccelerators(a: PodAnalysis, c: Conflict): boolean {
  return a.acc.isAcceleratorPod || ACCELERATOR_LABEL_KEYS.has(c.key) || a.config.pools.some((p) => Object.hasOwn(p.nodeLabels, c.key));
}

function check(a: PodAnalysis): RuleResult {
  if (a.target.partial) return skip('node selection lives elsewhere (partial template)');
  if (a.alternatives.length === 0) return pass();
  const conflicts = a.alternatives.map((reqs) => findConflict(reqs));
  if (conflicts.some((c) => c === undefined)) return pass();
  const first = conflicts[0] as Conflict;
  if (!concernsAccelerators(a, first)) return skip(`the contradiction on ${first.key} does not concern accelerators`);
  const parts = first.requirements.map((r) => `${r.path} (${describeRequirement(r)})`).join(' and ');
  // Only speak of the nodeSelector when it takes part: terms can also contradict themselves.
  const withSelector = a.selection.nodeSelector.length > 0;
  const fromSelector = first.requirements.some((r) => a.selection.nodeSelector.includes(r));
  const what = a.alternatives.length > 1
    ? `no required nodeAffinity term can ${withSelector ? 'hold together with the nodeSelector' : 'be met'}; e.g. on ${first.key}: ${parts}`
    : `node selection cannot be met on ${first.key}: ${parts}`;
  return fail([finding(ID, first.requirements[0]?.path ?? `${a.target.path}.nodeSelector`,
    `${what}; the Pod would stay Pending`,
    `make ${fromSelector ? 'nodeSelector and ' : 'the requirements of '}requiredDuringSchedulingIgnoredDuringExecution agree on ${first.key}, or drop one of them`)]);
}

export const nodeSelection: Rule = {
  id: ID,
  summary: 'nodeSelector and required node affinity must be able to hold together',
  fix: 'Make nodeSelector and required node affinity agree, or drop one of them',
  check,
};
