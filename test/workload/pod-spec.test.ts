import { describe, expect, it } from 'vitest';
import { findPodSpecs, handlesKind, supportedKinds } from '../../src/workload/pod-spec.js';
import { engine, gpuContainer, policy } from '../support/fixtures.js';

const spec = (): Record<string, unknown> => ({ containers: [{ name: 'c', image: 'x' }] });
const tpl = (): Record<string, unknown> => ({ metadata: { labels: { a: 'b' } }, spec: spec() });
const ray = (): Record<string, unknown> => ({ headGroupSpec: { template: tpl() }, workerGroupSpecs: [{ template: tpl() }, { template: tpl() }] });

describe('where Pod specs live', () => {
  it.each([
    ['', 'Pod', { spec: spec() }, [['/spec', 'spec']]],
    ['', 'PodTemplate', { template: tpl() }, [['/template/spec', 'template.spec']]],
    ['', 'ReplicationController', { spec: { template: tpl() } }, [['/spec/template/spec', 'spec.template.spec']]],
    ['apps', 'Deployment', { spec: { template: tpl() } }, [['/spec/template/spec', 'spec.template.spec']]],
    ['apps', 'StatefulSet', { spec: { template: tpl() } }, [['/spec/template/spec', 'spec.template.spec']]],
    ['apps', 'DaemonSet', { spec: { template: tpl() } }, [['/spec/template/spec', 'spec.template.spec']]],
    ['apps', 'ReplicaSet', { spec: { template: tpl() } }, [['/spec/template/spec', 'spec.template.spec']]],
    ['batch', 'Job', { spec: { template: tpl() } }, [['/spec/template/spec', 'spec.template.spec']]],
    ['batch', 'CronJob', { spec: { jobTemplate: { spec: { template: tpl() } } } }, [['/spec/jobTemplate/spec/template/spec', 'spec.jobTemplate.spec.template.spec']]],
    ['kubeflow.org', 'PyTorchJob', { spec: { pytorchReplicaSpecs: { Master: { template: tpl() }, Worker: { template: tpl() } } } },
      [['/spec/pytorchReplicaSpecs/Master/template/spec', 'spec.pytorchReplicaSpecs.Master.template.spec'], ['/spec/pytorchReplicaSpecs/Worker/template/spec', 'spec.pytorchReplicaSpecs.Worker.template.spec']]],
    ['kubeflow.org', 'TFJob', { spec: { tfReplicaSpecs: { PS: { template: tpl() } } } }, [['/spec/tfReplicaSpecs/PS/template/spec', 'spec.tfReplicaSpecs.PS.template.spec']]],
    ['kubeflow.org', 'MPIJob', { spec: { mpiReplicaSpecs: { Launcher: { template: tpl() } } } }, [['/spec/mpiReplicaSpecs/Launcher/template/spec', 'spec.mpiReplicaSpecs.Launcher.template.spec']]],
    ['kubeflow.org', 'XGBoostJob', { spec: { xgbReplicaSpecs: { Master: { template: tpl() } } } }, [['/spec/xgbReplicaSpecs/Master/template/spec', 'spec.xgbReplicaSpecs.Master.template.spec']]],
    ['kubeflow.org', 'PaddleJob', { spec: { paddleReplicaSpecs: { Worker: { template: tpl() } } } }, [['/spec/paddleReplicaSpecs/Worker/template/spec', 'spec.paddleReplicaSpecs.Worker.template.spec']]],
    ['trainer.kubeflow.org', 'ClusterTrainingRuntime', { spec: { template: { spec: { replicatedJobs: [{ name: 'node', template: { spec: { template: tpl() } } }] } } } },
      [['/spec/template/spec/replicatedJobs/0/template/spec/template/spec', 'spec.template.spec.replicatedJobs[0].template.spec.template.spec']]],
    ['trainer.kubeflow.org', 'TrainingRuntime', { spec: { template: { spec: { replicatedJobs: [{ template: { spec: { template: tpl() } } }] } } } },
      [['/spec/template/spec/replicatedJobs/0/template/spec/template/spec', 'spec.template.spec.replicatedJobs[0].template.spec.template.spec']]],
    ['ray.io', 'RayCluster', { spec: ray() }, [['/spec/headGroupSpec/template/spec', 'spec.headGroupSpec.template.spec'], ['/spec/workerGroupSpecs/0/template/spec', 'spec.workerGroupSpecs[0].template.spec'], ['/spec/workerGroupSpecs/1/template/spec', 'spec.workerGroupSpecs[1].template.spec']]],
    ['ray.io', 'RayJob', { spec: { rayClusterSpec: { headGroupSpec: { template: tpl() } }, submitterPodTemplate: tpl() } },
      [['/spec/rayClusterSpec/headGroupSpec/template/spec', 'spec.rayClusterSpec.headGroupSpec.template.spec'], ['/spec/submitterPodTemplate/spec', 'spec.submitterPodTemplate.spec']]],
    ['ray.io', 'RayService', { spec: { rayClusterConfig: { workerGroupSpecs: [{ template: tpl() }] } } }, [['/spec/rayClusterConfig/workerGroupSpecs/0/template/spec', 'spec.rayClusterConfig.workerGroupSpecs[0].template.spec']]],
    ['leaderworkerset.x-k8s.io', 'LeaderWorkerSet', { spec: { leaderWorkerTemplate: { leaderTemplate: tpl(), workerTemplate: tpl() } } },
      [['/spec/leaderWorkerTemplate/leaderTemplate/spec', 'spec.leaderWorkerTemplate.leaderTemplate.spec'], ['/spec/leaderWorkerTemplate/workerTemplate/spec', 'spec.leaderWorkerTemplate.workerTemplate.spec']]],
    ['jobset.x-k8s.io', 'JobSet', { spec: { replicatedJobs: [{ template: { spec: { template: tpl() } } }] } }, [['/spec/replicatedJobs/0/template/spec/template/spec', 'spec.replicatedJobs[0].template.spec.template.spec']]],
    ['batch.volcano.sh', 'Job', { spec: { tasks: [{ template: tpl() }] } }, [['/spec/tasks/0/template/spec', 'spec.tasks[0].template.spec']]],
    ['serving.kserve.io', 'LLMInferenceService', { spec: { template: spec(), worker: spec(), prefill: { template: spec() } } },
      [['/spec/template', 'spec.template'], ['/spec/worker', 'spec.worker'], ['/spec/prefill/template', 'spec.prefill.template']]],
    ['serving.kserve.io', 'InferenceService', { spec: { predictor: { model: { resources: {} } }, transformer: { containers: [{ name: 't' }] } } }, [['/spec/predictor', 'spec.predictor'], ['/spec/transformer', 'spec.transformer']]],
    ['trainer.kubeflow.org', 'TrainJob', { spec: { trainer: { resourcesPerNode: { limits: { 'nvidia.com/gpu': 1 } } } } }, [['/spec/trainer', 'spec.trainer']]],
  ])('%s/%s', (group, kind, object, expected) => {
    expect(handlesKind({ group, kind })).toBe(true);
    const found = findPodSpecs({ group, kind }, object).map((t) => [t.pointer, t.path]);
    expect(found).toEqual(expected);
  });

  it('escapes map keys with / in pointers', () => {
    const found = findPodSpecs({ group: 'kubeflow.org', kind: 'PyTorchJob' }, { spec: { pytorchReplicaSpecs: { 'a/b': { template: tpl() } } } });
    expect(found[0]?.pointer).toBe('/spec/pytorchReplicaSpecs/a~1b/template/spec');
  });

  it.each([
    ['apps', 'Deployment', { spec: {} }],
    ['apps', 'Deployment', { spec: { template: 'x' } }],
    ['', 'ConfigMap', { data: {} }],
    ['ray.io', 'RayCluster', { spec: { workerGroupSpecs: 'none' } }],
  ])('finds nothing in %s/%s %j', (group, kind, object) => {
    expect(findPodSpecs({ group, kind }, object)).toEqual([]);
  });

  it('lists every supported kind', () => {
    expect(supportedKinds()).toContain('kubeflow.org/PyTorchJob');
    expect(supportedKinds()).toContain('serving.kserve.io/InferenceService');
  });
});

describe('template reviews', () => {
  const deployment = (gpu: string, image = 'x'): Record<string, unknown> => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'team' },
    spec: { template: { spec: { containers: [gpuContainer({ image, resources: { limits: { 'nvidia.com/gpu': gpu, memory: '1Gi', cpu: '1' } } })] } } },
  });
  const req = (object: unknown, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldObject?: unknown) =>
    ({ kind: { group: 'apps', kind: 'Deployment' }, operation, namespace: 'team', object, oldObject });

  it('accepts limits without requests in a template (templates are not defaulted)', () => {
    expect(engine([policy({ accelerators: { defaultPool: 'l4' } })]).validate(req(deployment('1'))).denials).toEqual([]);
  });

  it('denies a template mistake at the template path', () => {
    const v = engine([policy({ accelerators: { defaultPool: 'l4' } })]).validate(req(deployment('0.5')));
    expect(v.denials.map((f) => f.path)).toEqual(['spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]']);
  });

  it('on UPDATE judges the template only when it changed', () => {
    const broken = deployment('0.5');
    const scaled = structuredClone(broken) as { spec: Record<string, unknown> };
    scaled.spec['replicas'] = 5;
    const e = engine();
    expect(e.validate(req(scaled, 'UPDATE', broken)).skipped).toBe('no Pod template changed');
    expect(e.validate(req(deployment('0.5', 'y'), 'UPDATE', deployment('1'))).denials.length).toBe(1);
  });
});
