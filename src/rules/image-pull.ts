import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { acceleratorImageRefs, effectivePullPolicy, isPinned, parseImageRef } from '../workload/images.js';
import { at, fail, skip } from './util.js';

const ID = 'image-pull';

function check(a: PodAnalysis): RuleResult {
  const level = a.policy.images.unpinned;
  const required = a.policy.images.pullPolicy;
  if (level === 'off' && !required) return skip('the policy checks no image pulls (images.unpinned off, no images.pullPolicy)');
  if (!a.acc.isAcceleratorPod) return skip('the Pod requests no accelerator');
  const refs = acceleratorImageRefs(a.acc).filter((r) => parseImageRef(r.container.image) !== undefined);
  if (refs.length === 0) return skip('no accelerator container names an image here (the operator sets it)');
  const out: Finding[] = [];
  for (const r of refs) {
    const image = parseImageRef(r.container.image)!;
    const name = r.container.name ?? r.path;
    const written = r.container.imagePullPolicy;
    const policy = effectivePullPolicy(image, written);
    const shown = String(r.container.image).trim();
    if (!isPinned(image)) {
      if (level === 'off') continue;
      // Kubernetes docs (concepts/containers/images, "Image pull policy"): with Always the kubelet
      // asks the registry for the tag's digest at every container start and pulls when it differs.
      const why = policy === 'Always'
        ? `${written ? 'imagePullPolicy Always' : 'the API server defaults imagePullPolicy to Always for it'}: every start and restart asks the registry, pulls the whole many-GB image again whenever the tag has moved, and fails while the registry is slow or unreachable (on a fresh accelerator node the pull alone can outlast the start-up budget)`
        : `with imagePullPolicy ${String(written)} each node keeps whichever image the tag pointed to when it first pulled it, so replicas on different nodes run different images`;
      out.push({
        ruleId: ID, path: `${at(a, r.path)}.image`,
        message: `accelerator container "${name}" uses image ${shown} ${image.tag ? 'with the moving tag latest' : 'without a tag (it means latest)'}; ${why}`,
        fix: `pin the image to a version tag or a digest (${image.name}:<version> or ${image.name}@sha256:<digest>)`,
        ...(level === 'warn' ? { advisory: true } : {}),
      });
      continue;
    }
    // Never is a deliberate choice for images pre-pulled into the node image: left alone.
    if (required && policy === 'Always') {
      out.push({
        ruleId: ID, path: `${at(a, r.path)}.imagePullPolicy`,
        message: `accelerator container "${name}" pulls its pinned image ${shown} with imagePullPolicy Always${written ? '' : " (the API server's default for the tag latest, even with a digest)"}: every start asks the registry first, and fails while it is slow or unreachable, for an image the node already has`,
        fix: `set imagePullPolicy: ${required} (the policy requires it for pinned images: spec.images.pullPolicy)`,
      });
    }
  }
  return fail(out);
}

export const imagePull: Rule = {
  id: ID,
  summary: 'Accelerator containers use pinned images (a tag other than latest, or a digest); optionally imagePullPolicy IfNotPresent on pinned images',
  fix: 'Pin the image to a version tag or a digest; set imagePullPolicy: IfNotPresent where the policy requires it',
  check,
};
