/**
 * Nothing GPU-bearing is dropped silently. Known shapes (Argo Workflows, NIMService, KServe
 * ServingRuntime) are table entries and judged; objects of kinds the table does not know are
 * searched structurally and, when a Pod-shaped part requests accelerators, reported as
 * `unknown-kind` (advisory: a guessed shape is never a denial). The audit summary counts them.
 */
import { describe, expect, it } from 'vitest';
import { audit, summarize } from '../../src/audit/run.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { findPodShapes, STRUCTURAL_LIMITS } from '../../src/workload/structural.js';
import { engine, policy } from '../support/fixtures.js';

type Json = Record<string, unknown>;

const noGpu = () => engine([policy({ accelerators: { allowed: false } })]);
const gpu = () => engine([policy()]);
const exempt = () => engine([policy({ exempt: true })]);
const groupOf = (o: Json): string => (String(o['apiVersion']).includes('/') ? String(o['apiVersion']).split('/')[0] as string : '');
const req = (object: Json, namespace = 'team') => ({ kind: { group: groupOf(object), kind: String(object['kind']) }, operation: 'CREATE' as const, namespace, name: 'x', object });
const GPU = { limits: { 'nvidia.com/gpu': '1' } };

function workflow(kind = 'Workflow', templates: Json[] = [{ name: 'train', container: { image: 'pytorch/pytorch', command: ['python', 'train.py'], resources: GPU } }]): Json {
  const spec = { entrypoint: 'train', templates };
  return { apiVersion: 'argoproj.io/v1alpha1', kind, metadata: { generateName: 'train-' }, spec: kind === 'CronWorkflow' ? { schedule: '0 2 * * *', workflowSpec: spec } : spec };
}

const katib = (trialSpec: Json = { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { containers: [{ name: 'training', image: 'x', resources: GPU }], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] } } } }): Json => ({
  apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'hp' },
  spec: { objective: { type: 'maximize' }, trialTemplate: { primaryContainerName: 'training', trialSpec } },
});
const modelDeployment: Json = { apiVersion: 'serving.example.ai/v1', kind: 'ModelDeployment', metadata: { name: 'm' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x', resources: GPU }] } } } };
const vllmRuntime: Json = {
  apiVersion: 'production-stack.vllm.ai/v1alpha1', kind: 'VLLMRuntime', metadata: { name: 'llama' },
  spec: { model: { modelURL: 'meta-llama/Llama-3.1-8B' }, deploymentConfig: { replicas: 1, resources: { limits: { 'nvidia.com/gpu': '1', memory: '16Gi' } } } },
};
const cpuOnlyCrd: Json = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { pod: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }] } } };

describe('known shapes added to the kind table', () => {
  it.each<[string, Json, string[]]>([
    ['an Argo Workflow container template', workflow(), ['spec.templates[0]']],
    ['an Argo WorkflowTemplate script and containerSet', workflow('WorkflowTemplate', [
      { name: 's', script: { image: 'python', source: 'print(1)', resources: GPU } },
      { name: 'steps', steps: [[{ name: 'a', template: 's' }]] },
      { name: 'cs', containerSet: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x', resources: GPU }] } },
    ]), ['spec.templates[0]', 'spec.templates[2]']],
    ['an Argo CronWorkflow', workflow('CronWorkflow'), ['spec.workflowSpec.templates[0]']],
    ['a NIMService', { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', metadata: { name: 'llama' }, spec: { image: { repository: 'nvcr.io/nim/meta/llama', tag: '1' }, resources: GPU } }, ['spec']],
    ['a Katib Experiment trialSpec (an embedded Job)', katib(), ['spec.trialTemplate.trialSpec.spec.template.spec']],
    ['a Katib Experiment trialSpec that is a PyTorchJob', katib({ apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', spec: { pytorchReplicaSpecs: { Master: { template: { spec: { containers: [{ name: 'pytorch', resources: GPU }] } } } } } }),
      ['spec.trialTemplate.trialSpec.spec.pytorchReplicaSpecs.Master.template.spec']],
    ['a KServe ServingRuntime and its workerSpec', { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ServingRuntime', metadata: { name: 'vllm' }, spec: { containers: [{ name: 'kserve-container', image: 'x', resources: GPU }], workerSpec: { pipelineParallelSize: 2, containers: [{ name: 'worker', image: 'x', resources: GPU }] } } }, ['spec', 'spec.workerSpec']],
  ])('finds the Pod specs of %s', (_n, o, paths) => {
    expect(findPodSpecs({ group: groupOf(o), kind: String(o['kind']) }, o).map((t) => t.path)).toEqual(paths);
  });

  it('an Argo Workflow requesting GPUs in a namespace that allows none is denied, naming the field', () => {
    const v = noGpu().validate(req(workflow()));
    expect(v.denials.map((f) => `${f.ruleId}@${f.path}`)).toEqual(['accelerator-allowed@spec.templates[0].container.resources.limits[nvidia.com/gpu]']);
  });

  it('an Argo Workflow is allowed where GPUs are (node selection is partial: merged by the controller)', () => {
    expect(gpu().validate(req(workflow())).denials).toEqual([]);
  });

  it('a Katib Experiment whose GPU trials would run in a namespace that allows none is denied', () => {
    expect(noGpu().validate(req(katib())).denials.map((f) => `${f.ruleId}@${f.path}`))
      .toEqual(['accelerator-allowed@spec.trialTemplate.trialSpec.spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]']);
    expect(gpu().validate(req(katib())).denials).toEqual([]);
  });

  it('a NIMService requesting GPUs where none are allowed is denied at spec.resources', () => {
    const o = { apiVersion: 'apps.nvidia.com/v1alpha1', kind: 'NIMService', metadata: { name: 'n' }, spec: { resources: GPU } };
    expect(noGpu().validate(req(o)).denials.map((f) => f.path)).toEqual(['spec.resources.limits[nvidia.com/gpu]']);
  });
});

describe('unknown kinds', () => {
  it.each<[string, Json, string]>([
    ['a custom ModelDeployment with a Pod template', modelDeployment, 'spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]'],
    ['a VLLMRuntime deploymentConfig.resources', vllmRuntime, 'spec.deploymentConfig.resources.limits[nvidia.com/gpu]'],
  ])('reports %s requesting GPUs as not judged (a warning, never a denial)', (_n, o, path) => {
    for (const e of [noGpu(), gpu()]) {
      const v = e.validate(req(o));
      expect(v.denials).toEqual([]);
      expect(v.warnings.map((f) => [f.ruleId, f.path])).toEqual([['unknown-kind', path]]);
      expect(v.warnings[0]?.message).toMatch(/^not judged: unknown kind \w+\.[\w.-]+ requests nvidia\.com\/gpu/);
    }
    expect(noGpu().validate(req(o)).warnings[0]?.message).toContain('namespace team may not use accelerators');
  });

  it('reports a Katib Experiment whose trialSpec is a kind the table does not know', () => {
    const o = katib({ apiVersion: 'example.com/v1', kind: 'MyTrainer', spec: { template: { spec: { containers: [{ name: 't', resources: GPU }] } } } });
    const v = noGpu().validate(req(o));
    expect(v.denials).toEqual([]);
    expect(v.warnings.map((f) => [f.ruleId, f.path])).toEqual([['unknown-kind', 'spec.trialTemplate.trialSpec.spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]']]);
    expect(v.warnings[0]?.message).toMatch(/^not judged: Experiment\.kubeflow\.org has no Pod spec where the kind table expects one, but it requests nvidia\.com\/gpu/);
  });

  it.each<[string, () => ReturnType<typeof engine>, Json]>([
    ['an unknown kind requesting no accelerator', gpu, cpuOnlyCrd],
    ['an unknown kind in an exempt namespace', exempt, modelDeployment],
    ['an unknown kind without any Pod-shaped part', gpu, { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { gpus: 1 } }],
  ])('skips %s', (_n, e, o) => {
    expect(e().validate(req(o)).skipped).toMatch(/carries no Pod spec/);
  });

  it('the structural walk is bounded (deep nesting, many nodes)', () => {
    let deep: Json = { containers: [{ name: 'c', resources: GPU }] };
    for (let i = 0; i < STRUCTURAL_LIMITS.depth + 10; i += 1) deep = { x: deep };
    expect(findPodShapes({ spec: deep })).toEqual([]);
    const wide = { spec: { items: Array.from({ length: STRUCTURAL_LIMITS.nodes * 2 }, () => ({ a: 1 })) } };
    expect(findPodShapes(wide)).toEqual([]);
  });

  it('audit counts them in the summary', () => {
    const objects = [modelDeployment, vllmRuntime, cpuOnlyCrd, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} }]
      .map((object, index) => ({ file: 'x.yaml', line: 1 + index, index, object }));
    const results = audit(gpu(), objects as never, { namespace: 'team' });
    expect(results.map((r) => `${r.kind}:${r.verdict}`)).toEqual(['ModelDeployment:warned', 'VLLMRuntime:warned', 'Thing:skipped']);
    expect(summarize(results)).toMatchObject({ objects: 3, warned: 2, skipped: 1, unjudged: 2 });
  });
});
