import type { Mutator, WorkloadMutator } from '../engine/types.js';
import { disruptionMutator } from './disruption.js';
import { gangQueueMutator } from './gang-queue.js';
import { priorityClassMutator } from './priority-class.js';
import { startupProbeMutator } from './startup-probe.js';
import { terminationGraceMutator } from './termination-grace.js';
import { tolerationsMutator } from './tolerations.js';
import { cudaAffinityMutator } from './cuda-affinity.js';
import { imagePullPolicyMutator } from './image-pull-policy.js';
import { costLabelsMutator } from './cost-labels.js';
import { rolloutMutator } from './rollout.js';

/** Every mutator, in the order they run. */
export const MUTATORS: readonly Mutator[] = [tolerationsMutator, cudaAffinityMutator, startupProbeMutator, terminationGraceMutator, priorityClassMutator, disruptionMutator, imagePullPolicyMutator, costLabelsMutator];

/** Every mutator of workload objects' own fields, run after the Pod spec mutators. */
export const WORKLOAD_MUTATORS: readonly WorkloadMutator[] = [gangQueueMutator, rolloutMutator];
