import type { V1PodSpec } from '@kubernetes/client-node';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';
import { ContainerEdits } from './container-edits.js';
import { acceleratorImageRefs, effectivePullPolicy, isPinned, parseImageRef } from '../workload/images.js';

const ID = 'image-pull-policy';

/**
 * Sets imagePullPolicy IfNotPresent on accelerator containers whose image is pinned (a version
 * tag or a digest) and would be pulled with Always. An unpinned image (no tag, `:latest`) is
 * never changed: IfNotPresent would freeze each node on whichever image the moving tag pointed to
 * when it first pulled it, silently; the image-pull rule reports it instead.
 */
function apply(spec: V1PodSpec, a: PodAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  const wanted = a.policy.images.pullPolicy;
  // Virtual specs are assembled from other fields: their containers are not at spec.containers.
  if (!wanted || a.target.virtual) return result;
  const edits = new ContainerEdits(spec);
  for (const ref of acceleratorImageRefs(a.acc)) {
    const c = spec[ref.list]?.[ref.index];
    if (!c) continue;
    const image = parseImageRef(c.image);
    if (!image || !isPinned(image) || effectivePullPolicy(image, c.imagePullPolicy) !== 'Always') continue;
    edits.replace(ref.list, ref.index, { ...c, imagePullPolicy: wanted });
    result.notes.push({
      mutator: ID, path: `${a.target.path}.${ref.path}.imagePullPolicy`,
      description: `set imagePullPolicy ${wanted} on "${c.name ?? ref.path}" (pinned image ${String(c.image).trim()})`,
    });
  }
  edits.commit();
  return result;
}

export const imagePullPolicyMutator: Mutator = {
  id: ID,
  summary: 'set imagePullPolicy IfNotPresent on accelerator containers with a pinned image (tag or digest) pulled with Always; never on :latest or untagged images',
  setting: 'mutations.imagePullPolicy + images.pullPolicy',
  enabled: (p) => p.mutations.imagePullPolicy && p.images.pullPolicy !== undefined,
  apply,
};
