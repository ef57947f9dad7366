import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import type { EngineRequest } from '../../src/engine/engine.js';
import { disruptionMutator, DISRUPTION_ANNOTATIONS } from '../../src/mutators/disruption.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { roleOfOwner, WORKLOAD_KINDS } from '../../src/workload/kinds.js';
import { cpuContainer, engine, gpuContainer, podSpec, policy } from '../support/fixtures.js';

const KARPENTER = 'karpenter.sh/do-not-disrupt';
const CA = 'cluster-autoscaler.kubernetes.io/safe-to-evict';
const PROTECTED = { [KARPENTER]: 'true', [CA]: 'false' };

const owner = (apiVersion: string, kind: string, controller = true) => ({ apiVersion, kind, name: 'o', uid: 'u', controller });

function podOf(meta: Record<string, unknown>, spec = podSpec()): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team', ...meta }, spec };
}

function templated(apiVersion: string, kind: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion, kind, metadata: { name: 'w', namespace: 'team' }, spec };
}

const deployment = (annotations?: Record<string, string>) => templated('apps/v1', 'Deployment', { replicas: 2, selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' }, ...(annotations ? { annotations } : {}) }, spec: podSpec() } });
const job = () => templated('batch/v1', 'Job', { template: { metadata: { labels: { app: 'w' } }, spec: podSpec({ restartPolicy: 'Never' }) } });
const pytorchJob = () => templated('kubeflow.org/v1', 'PyTorchJob', { pytorchReplicaSpecs: { Master: { replicas: 1, template: { spec: podSpec() } }, Worker: { replicas: 3, template: { spec: podSpec() } } } });

function request(object: Record<string, unknown>): EngineRequest {
  const [group, version] = String(object['apiVersion']).includes('/') ? String(object['apiVersion']).split('/') : ['', object['apiVersion']];
  void version;
  return { kind: { group: group as string, kind: String(object['kind']) }, operation: 'CREATE', namespace: 'team', name: 'x', object };
}

const withProtect = (protect: 'training' | 'all' | 'none', extra: Parameters<typeof policy>[0] = {}): NamespacePolicy =>
  policy({ ...extra, disruption: { protect } });
const templates = (protect: 'training' | 'all' | 'none' = 'training'): NamespacePolicy => withProtect(protect, { mutations: { templates: true } });

/** Annotations of every Pod metadata of the object after the patch. */
function mutated(pol: NamespacePolicy, object: Record<string, unknown>): { object: Record<string, unknown>; notes: number; warnings: string[]; patch: number } {
  const v = engine([pol]).mutate(request(object));
  const out = applyLikeApiServer(object, v.patch) as Record<string, unknown>;
  return { object: out, notes: v.notes.filter((n) => n.mutator === 'disruption').length, warnings: v.warnings.filter((w) => w.ruleId === 'disruption').map((w) => w.message), patch: v.patch.length };
}

const podAnnotations = (o: Record<string, unknown>): Record<string, string> | undefined => (o['metadata'] as { annotations?: Record<string, string> }).annotations;
const tplAnnotations = (o: Record<string, unknown>, ...path: string[]): Record<string, string> | undefined => {
  let at: unknown = o['spec'];
  for (const p of path) at = (at as Record<string, unknown>)[p];
  return ((at as { metadata?: { annotations?: Record<string, string> } }).metadata ?? {}).annotations;
};

interface Case {
  name: string;
  policy: () => NamespacePolicy;
  object: () => Record<string, unknown>;
  annotations: (o: Record<string, unknown>) => Record<string, string> | undefined;
  /** The annotations the object ends with (undefined: none were added). */
  want?: Record<string, string>;
  /** Notes when not one per added annotation of one template (several templates). */
  notes?: number;
}

const cases: Case[] = [
  // protected
  { name: "a Job's Pod under 'training'", policy: () => withProtect('training'), object: () => podOf({ ownerReferences: [owner('batch/v1', 'Job')] }), annotations: podAnnotations, want: PROTECTED },
  { name: "a PyTorchJob's Pod under 'training'", policy: () => withProtect('training'), object: () => podOf({ ownerReferences: [owner('kubeflow.org/v1', 'PyTorchJob')] }), annotations: podAnnotations, want: PROTECTED },
  { name: "a RayCluster's Pod created by a RayJob", policy: () => withProtect('training'), object: () => podOf({ labels: { 'ray.io/originated-from-crd': 'RayJob' }, ownerReferences: [owner('ray.io/v1', 'RayCluster')] }), annotations: podAnnotations, want: PROTECTED },
  { name: "a Deployment's Pod under 'all'", policy: () => withProtect('all'), object: () => podOf({ ownerReferences: [owner('apps/v1', 'ReplicaSet')] }), annotations: podAnnotations, want: PROTECTED },
  { name: "a bare Pod under 'all'", policy: () => withProtect('all'), object: () => podOf({}), annotations: podAnnotations, want: PROTECTED },
  { name: 'keeps the other annotations of the Pod', policy: () => withProtect('training'), object: () => podOf({ annotations: { team: 'a' }, ownerReferences: [owner('batch/v1', 'Job')] }), annotations: podAnnotations, want: { team: 'a', ...PROTECTED } },
  { name: "a Job's template with mutations.templates", policy: () => templates(), object: job, annotations: (o) => tplAnnotations(o, 'template'), want: PROTECTED },
  { name: "a PyTorchJob's worker template with mutations.templates", policy: () => templates(), object: pytorchJob, annotations: (o) => tplAnnotations(o, 'pytorchReplicaSpecs', 'Worker', 'template'), want: PROTECTED, notes: 4 },
  { name: "a Deployment's template under 'all' with mutations.templates", policy: () => templates('all'), object: () => deployment(), annotations: (o) => tplAnnotations(o, 'template'), want: PROTECTED },
  // the user's value wins
  { name: 'a duration the user gave Karpenter stays; the other annotation is added', policy: () => withProtect('training'), object: () => podOf({ annotations: { [KARPENTER]: '30m' }, ownerReferences: [owner('batch/v1', 'Job')] }), annotations: podAnnotations, want: { [KARPENTER]: '30m', [CA]: 'false' } },
  { name: 'safe-to-evict "true" set deliberately stays', policy: () => withProtect('training'), object: () => podOf({ annotations: { [CA]: 'true' }, ownerReferences: [owner('batch/v1', 'Job')] }), annotations: podAnnotations, want: { [CA]: 'true', [KARPENTER]: 'true' } },
  // skipped
  { name: "a Deployment's Pod under 'training'", policy: () => withProtect('training'), object: () => podOf({ ownerReferences: [owner('apps/v1', 'ReplicaSet')] }), annotations: podAnnotations },
  { name: "a StatefulSet's Pod under 'training'", policy: () => withProtect('training'), object: () => podOf({ ownerReferences: [owner('apps/v1', 'StatefulSet')] }), annotations: podAnnotations },
  { name: "a bare Pod under 'training' (its role is unknown)", policy: () => withProtect('training'), object: () => podOf({}), annotations: podAnnotations },
  { name: "a RayCluster's Pod not created by a RayJob", policy: () => withProtect('training'), object: () => podOf({ ownerReferences: [owner('ray.io/v1', 'RayCluster')] }), annotations: podAnnotations },
  { name: 'an owner that is not the controller', policy: () => withProtect('training'), object: () => podOf({ ownerReferences: [owner('batch/v1', 'Job', false)] }), annotations: podAnnotations },
  { name: "a Job's Pod that requests no accelerator", policy: () => withProtect('all'), object: () => podOf({ ownerReferences: [owner('batch/v1', 'Job')] }, { containers: [cpuContainer()] }), annotations: podAnnotations },
  { name: "a Job's Pod under 'none'", policy: () => withProtect('none'), object: () => podOf({ ownerReferences: [owner('batch/v1', 'Job')] }), annotations: podAnnotations },
  { name: "a Job's Pod with mutations.disruption off", policy: () => withProtect('all', { mutations: { disruption: false } }), object: () => podOf({ ownerReferences: [owner('batch/v1', 'Job')] }), annotations: podAnnotations },
  { name: "a DaemonSet's Pod under 'all'", policy: () => withProtect('all'), object: () => podOf({ ownerReferences: [owner('apps/v1', 'DaemonSet')] }), annotations: podAnnotations },
  { name: "a Job's template without mutations.templates", policy: () => withProtect('training'), object: job, annotations: (o) => tplAnnotations(o, 'template') },
  { name: "a Deployment's template under 'training'", policy: () => templates('training'), object: () => deployment(), annotations: (o) => tplAnnotations(o, 'template') },
];

describe('disruption mutator', () => {
  it.each(cases)('$name', ({ policy: pol, object, annotations, want, notes }) => {
    const first = mutated(pol(), object());
    expect(annotations(first.object)).toEqual(want === undefined ? annotations(object()) : want);
    const added = want ? DISRUPTION_ANNOTATIONS.filter((d) => annotations(object())?.[d.key] === undefined).length : 0;
    expect(first.notes).toBe(notes ?? added);
    // Idempotent: the patched object gets no further disruption notes.
    expect(mutated(pol(), first.object).notes).toBe(0);
  });

  it('warns once when the user opted out with safe-to-evict "true", and leaves it', () => {
    const r = mutated(withProtect('training'), podOf({ annotations: { [CA]: 'true' }, ownerReferences: [owner('batch/v1', 'Job')] }));
    expect(r.warnings).toEqual([expect.stringContaining(`${CA} is "true"`)]);
    expect(mutated(withProtect('training'), podOf({ annotations: { [KARPENTER]: '30m' }, ownerReferences: [owner('batch/v1', 'Job')] })).warnings).toEqual([]);
  });

  it('a Pod without annotations gets the map in one patch operation, no gpu change', () => {
    const v = engine([withProtect('training')]).mutate(request(podOf({ ownerReferences: [owner('batch/v1', 'Job')] }, { containers: [gpuContainer()], tolerations: [] })));
    expect(v.patch).toContainEqual({ op: 'add', path: '/metadata/annotations', value: PROTECTED });
  });

  it('is enabled by the switch and the setting', () => {
    expect(disruptionMutator.enabled(withProtect('training'))).toBe(true);
    expect(disruptionMutator.enabled(withProtect('none'))).toBe(false);
  });
});

describe('workload roles', () => {
  it('names a role for every training and serving kind, none for Pods, PodTemplates, DaemonSets and RayClusters', () => {
    const none = WORKLOAD_KINDS.filter((k) => k.role === undefined).map((k) => `${k.group}/${k.kind}`);
    expect(none.sort()).toEqual(['/Pod', '/PodTemplate', 'apps/DaemonSet', 'ray.io/RayCluster'].sort());
  });

  it.each([
    ['batch/v1', 'Job', 'training'], ['kubeflow.org/v1', 'MPIJob', 'training'], ['batch.volcano.sh/v1alpha1', 'Job', 'training'],
    ['argoproj.io/v1alpha1', 'Workflow', 'training'], ['apps/v1', 'ReplicaSet', 'serving'], ['apps/v1', 'StatefulSet', 'serving'],
    ['apps/v1', 'DaemonSet', undefined], ['example.com/v1', 'Thing', undefined],
  ] as const)('a Pod owned by %s %s is %s', (apiVersion, kind, role) => {
    expect(roleOfOwner([owner(apiVersion, kind)])).toBe(role);
  });
});
