import type { V1PodSpec } from '@kubernetes/client-node';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';

const ID = 'termination-grace';

function apply(spec: V1PodSpec, a: PodAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  const want = a.policy.terminationGracePeriodSeconds;
  if (want === undefined || !a.acc.isAcceleratorPod) return result;
  const have = spec.terminationGracePeriodSeconds;
  if (typeof have === 'number' && have >= want) return result;
  spec.terminationGracePeriodSeconds = want;
  result.notes.push({
    mutator: ID,
    path: `${a.target.path}.terminationGracePeriodSeconds`,
    description: `set terminationGracePeriodSeconds to ${want}${typeof have === 'number' ? ` (was ${have})` : ''}`,
  });
  return result;
}

export const terminationGraceMutator: Mutator = {
  id: ID,
  summary: "raise terminationGracePeriodSeconds to the policy's value",
  setting: 'mutations.terminationGracePeriod + terminationGracePeriodSeconds',
  enabled: (p) => p.mutations.terminationGracePeriod && p.terminationGracePeriodSeconds !== undefined,
  apply,
};
