import type { Rule, WorkloadRule } from '../engine/types.js';
import { acceleratorAllowed } from './accelerator-allowed.js';
import { acceleratorLimits } from './accelerator-limits.js';
import { acceleratorQuantity } from './accelerator-quantity.js';
import { containerResources } from './container-resources.js';
import { deviceHostpath } from './device-hostpath.js';
import { gangScheduling } from './gang-scheduling.js';
import { gpuSquatting } from './gpu-squatting.js';
import { nodeAvailability } from './node-availability.js';
import { nodeSelection } from './node-selection.js';
import { poolSelection } from './pool-selection.js';
import { poolTolerations } from './pool-tolerations.js';
import { privilegedAccelerator } from './privileged-accelerator.js';
import { priorityClass } from './priority-class.js';
import { startupBudget } from './startup-budget.js';
import { visibleDevices } from './visible-devices.js';
import { cudaCompatibility } from './cuda-compatibility.js';
import { imagePull } from './image-pull.js';
import { costLabels } from './cost-labels.js';
import { rolloutProgressDeadline } from './rollout-progress-deadline.js';
import { rolloutStrategy } from './rollout-strategy.js';

/** Every validation rule, in the order their findings are reported. */
export const RULES: readonly Rule[] = [
  acceleratorLimits,
  acceleratorAllowed,
  acceleratorQuantity,
  nodeSelection,
  poolSelection,
  poolTolerations,
  gpuSquatting,
  visibleDevices,
  privilegedAccelerator,
  deviceHostpath,
  containerResources,
  priorityClass,
  startupBudget,
  nodeAvailability,
  cudaCompatibility,
  imagePull, costLabels,
];

/** Every rule on whole objects (engine/workload.ts), reported after the Pod spec rules. */
export const WORKLOAD_RULES: readonly WorkloadRule[] = [gangScheduling, rolloutProgressDeadline, rolloutStrategy];

/** Every rule id, Pod spec and workload rules alike. */
export const RULE_IDS: readonly string[] = [...RULES.map((r) => r.id), ...WORKLOAD_RULES.map((r) => r.id)];
