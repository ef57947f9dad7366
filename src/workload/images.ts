/**
 * Container image references, as the API server reads them to default imagePullPolicy.
 *
 * Kubernetes `SetDefaults_Container` (pkg/apis/core/v1/defaults.go) parses the image with
 * `parsers.ParseImageName`, which reports the tag `latest` when the reference has neither a tag
 * nor a digest, and sets `imagePullPolicy: Always` when that tag is `latest`, `IfNotPresent`
 * otherwise. So `img`, `img:latest` and also `img:latest@sha256:...` default to Always, while
 * `img@sha256:...` and `img:1.2` default to IfNotPresent.
 */
import type { AcceleratorAnalysis, ContainerRef } from './accelerators.js';

export interface ImageRef {
  /** Registry, path and repository name (`registry.example.com:5000/team/img`). */
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits a reference by the distribution reference grammar: the digest follows `@`, the tag
 * follows the last `:` that comes after the last `/` (a `:` before it is a registry port:
 * `host:5000/img` has no tag). Undefined for what is not a string or is blank.
 */
export function parseImageRef(image: unknown): ImageRef | undefined {
  if (typeof image !== 'string') return undefined;
  const ref = image.trim();
  if (ref === '') return undefined;
  const at = ref.indexOf('@');
  const named = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const colon = named.lastIndexOf(':');
  const slash = named.lastIndexOf('/');
  const hasTag = colon > slash;
  return {
    name: hasTag ? named.slice(0, colon) : named,
    ...(hasTag ? { tag: named.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** Pinned: a digest, or a tag other than `latest`. A moving tag other than latest cannot be told. */
export function isPinned(ref: ImageRef): boolean {
  return ref.digest !== undefined || (ref.tag !== undefined && ref.tag !== 'latest');
}

/** What the API server writes when imagePullPolicy is absent (see the comment at the top). */
export function defaultPullPolicy(ref: ImageRef): 'Always' | 'IfNotPresent' {
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The policy the kubelet will apply: the one written, or the API server's default. */
export function effectivePullPolicy(ref: ImageRef, written: unknown): string {
  return typeof written === 'string' && written !== '' ? written : defaultPullPolicy(ref);
}

/**
 * Containers that use an accelerator: the app containers the analysis found, and the init
 * containers (sidecars too) that request one. Their images are the many-GB ones.
 */
export function acceleratorImageRefs(acc: AcceleratorAnalysis): ContainerRef[] {
  const out = [...acc.acceleratorContainers];
  for (const u of acc.uses) if (u.ref.list === 'initContainers' && !out.some((r) => r.path === u.ref.path)) out.push(u.ref);
  return out;
}
