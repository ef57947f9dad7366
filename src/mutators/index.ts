import type { Mutator, WorkloadMutator } from '../engine/types.js';
import { priorityClassMutator } from './priority-class.js';
import { startupProbeMutator } from './startup-probe.js';
import { terminationGraceMutator } from './termination-grace.js';
import { tolerationsMutator } from './tolerations.js';

/** Every mutator, in the order they run. */
export const MUTATORS: readonly Mutator[] = [tolerationsMutator, startupProbeMutator, terminationGraceMutator, priorityClassMutator];

/** Every mutator of workload objects' own fields, run after the Pod spec mutators. */
export const WORKLOAD_MUTATORS: readonly WorkloadMutator[] = [];
