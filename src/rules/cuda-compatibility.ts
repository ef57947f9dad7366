import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { poolAllowed, poolOffers } from '../scheduling/pools.js';
import { type CudaUnit, cudaReach, podCudaRequirement, unitVerdict } from '../scheduling/cuda-reach.js';
import { CUDA_ANNOTATION, type CudaRequirement, compareCuda, formatCuda, parseCudaVersion } from '../workload/cuda.js';
import { fail, pass, skip } from './util.js';

const ID = 'cuda-compatibility';

/** At most this many nodes or pools are named in one message. */
const SHOWN = 4;

function listUnits(units: CudaUnit[]): string {
  const shown = units.slice(0, SHOWN).map((u) => `${u.label} supports ${u.supported ? formatCuda(u.supported) : '?'} (${u.basis ?? 'unknown'})`);
  return units.length > SHOWN ? `${shown.join(', ')} and ${units.length - SHOWN} more` : shown.join(', ');
}

function why(req: CudaRequirement, bad: CudaUnit[], mvc: boolean): string {
  const major = `a driver of an older major version does not run CUDA ${req.version.major}.x code (minor version compatibility holds only within one major version)`;
  const olderMajor = bad.filter((u) => u.supported && u.supported.major < req.version.major);
  if (olderMajor.length === bad.length) return major;
  const minor = req.enforced
    ? `the NVIDIA Container Toolkit checks its NVIDIA_REQUIRE_CUDA (cuda>=${formatCuda(req.version)}) at container start and refuses an older driver`
    : !mvc
      ? 'the policy turns minor version compatibility off (spec.cuda.minorVersionCompatibility: false)'
      : 'an older driver of the same major version runs it under minor version compatibility only: APIs that need the newer driver are missing, and PTX from the newer compiler cannot be JIT-compiled';
  return olderMajor.length > 0 ? `${minor}; and ${major}` : minor;
}

/** The catalogue's pools the namespace may use that offer the resources and support the version. */
function fitting(a: PodAnalysis, req: CudaRequirement): string {
  const pools = a.config.pools.filter((p) => a.acc.resources.every((r) => poolOffers(p, r)) && poolAllowed(a.policy, p));
  const fit = pools.filter((p) => {
    const v = parseCudaVersion(p.cuda);
    return v !== undefined && compareCuda(v, req.version) >= 0;
  });
  return fit.length > 0 ? `select a pool whose driver supports CUDA ${formatCuda(req.version)} (${fit.map((p) => `${p.name}: ${p.cuda}`).join(', ')}), ` : '';
}

function check(a: PodAnalysis): RuleResult {
  const level = a.policy.cuda.check;
  if (level === 'off') return skip('cuda.check is off');
  if (!a.acc.isAcceleratorPod) return skip('the Pod requests no accelerator');
  if (!a.policy.accelerators.allowed) return skip('the namespace allows no accelerators (accelerator-allowed reports it)');
  if (a.target.partial) return skip('node selection lives elsewhere (partial template)');
  const advisory = level === 'warn';
  const found = podCudaRequirement(a);
  if (found.status === 'invalid') {
    return fail([{
      ruleId: ID, path: found.path, ...(advisory ? { advisory } : {}),
      message: `annotation ${CUDA_ANNOTATION} is "${found.value}", which is not a CUDA version`,
      fix: `write the CUDA version the workload needs as major.minor, e.g. ${CUDA_ANNOTATION}: "12.4"`,
    }]);
  }
  if (found.status === 'unknown') {
    return skip(`the workload states no CUDA version (annotation ${CUDA_ANNOTATION}, NVIDIA_REQUIRE_CUDA) and no image of its accelerator containers names one`);
  }
  const req = found.requirement;
  const reach = cudaReach({
    alts: a.alternatives, nodeName: a.selection.nodeName?.name, usable: a.candidates.usable, pools: a.config.pools,
    resources: a.acc.resources, nodes: a.config.cluster?.nodes(),
  });
  if (reach.units.length === 0) return skip('the Pod reaches no usable pool or node (pool-selection reports it)');
  const known = reach.units.filter((u) => u.supported);
  if (known.length === 0) {
    return skip(`no reachable ${reach.mode === 'nodes' ? 'node carries the GFD label nvidia.com/cuda.runtime-version nor belongs to a pool that declares' : 'pool declares'} its CUDA version (GpuPool.cuda)`);
  }
  const mvc = a.policy.cuda.minorVersionCompatibility;
  const verdicts = reach.units.map((u) => unitVerdict(req, u, mvc));
  const bad = reach.units.filter((_u, i) => verdicts[i] === 'limited' || verdicts[i] === 'fails');
  if (bad.length === 0) return pass();
  const needs = `needs CUDA ${formatCuda(req.version)} (from ${req.source})`;
  const someFit = verdicts.some((v) => v === 'ok' || v === 'unknown');
  const finding = (message: string, fix: string, advise: boolean): Finding => ({ ruleId: ID, path: req.path, message, fix, ...(advise ? { advisory: true } : {}) });
  if (someFit) {
    // The mutation narrows the selection to the drivers that are new enough.
    if (a.policy.mutations.cudaAffinity) return pass();
    return fail([finding(
      `${needs}, but the selection can also reach ${listUnits(bad)}; ${why(req, bad, mvc)}`,
      `${fitting(a, req)}or turn on mutations.cudaAffinity so the webhook narrows the selection`, true)]);
  }
  const fails = verdicts.every((v) => v === 'fails');
  const message = `${needs}, but every driver the selection can reach is older: ${listUnits(bad)}; ${why(req, bad, mvc)}`;
  const fix = `${fitting(a, req)}use an image built for the drivers' CUDA version, or upgrade the driver`;
  // Forward compatibility (the cuda-compat packages NGC images ship) may still run it on data-center GPUs.
  return fail([finding(message, fix, advisory || !fails || req.forwardCompatible)]);
}

export const cudaCompatibility: Rule = {
  id: ID,
  summary: 'The CUDA version an accelerator Pod needs (annotation, NVIDIA_REQUIRE_CUDA, image tag) must be supported by the drivers it can reach',
  fix: 'Select a pool whose driver supports the CUDA version, or use an image built for the drivers you have',
  check,
};
