import type { Mutator } from '../engine/types.js';
import { priorityClassMutator } from './priority-class.js';
import { startupProbeMutator } from './startup-probe.js';
import { terminationGraceMutator } from './termination-grace.js';
import { tolerationsMutator } from './tolerations.js';

/** Every mutator, in the order they run. */
export const MUTATORS: readonly Mutator[] = [tolerationsMutator, startupProbeMutator, terminationGraceMutator, priorityClassMutator];
