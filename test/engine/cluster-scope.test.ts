/**
 * Cluster-scoped Pod templates (ClusterTrainingRuntime, ClusterServingRuntime,
 * ClusterWorkflowTemplate) reach the webhook with an empty namespace. No namespace's policy governs
 * them: the default policy's `clusterScope` setting does, with internal-consistency rules only,
 * in warn mode unless it says otherwise. Namespaced runtimes are judged by their namespace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { checkPolicies } from '../../src/policy/parse.js';
import { CLUSTER_SCOPE_POLICY } from '../../src/policy/cluster-scope.js';
import { auditObject } from '../../src/audit/run.js';
import { engine, policy } from '../support/fixtures.js';
import { shippedEngine } from '../support/app.js';

type Json = Record<string, unknown>;

/** The shape of Trainer's shipped GPU runtimes (e.g. the torchtune ones): GPU limits, no selection, no tolerations. */
function clusterTrainingRuntime(container: Json, podSpec: Json = {}, kind = 'ClusterTrainingRuntime'): Json {
  return {
    apiVersion: 'trainer.kubeflow.org/v1alpha1', kind, metadata: { name: 'torchtune-llama3.2-1b' },
    spec: {
      mlPolicy: { numNodes: 1, torch: { numProcPerNode: 'auto' } },
      template: { spec: { replicatedJobs: [{ name: 'node', template: { spec: { template: { spec: { containers: [{ name: 'node', image: 'pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime', ...container }], ...podSpec } } } } }] } },
    },
  };
}

const GPU2 = { resources: { limits: { 'nvidia.com/gpu': '2' } } };
const PATH = 'spec.template.spec.replicatedJobs[0].template.spec.template.spec';

function clusterServingRuntime(): Json {
  return {
    apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ClusterServingRuntime', metadata: { name: 'kserve-huggingfaceserver-gpu' },
    spec: { supportedModelFormats: [{ name: 'huggingface', version: '1', autoSelect: true }], protocolVersions: ['v2'],
      containers: [{ name: 'kserve-container', image: 'kserve/huggingfaceserver:latest-gpu', args: ['--model_dir=/mnt/models'], resources: { limits: { 'nvidia.com/gpu': '1', cpu: '1', memory: '2Gi' } } }] },
  };
}

const groupOf = (o: Json): string => String(o['apiVersion']).split('/')[0] as string;
const req = (object: Json, namespace = '') => ({ kind: { group: groupOf(object), kind: String(object['kind']) }, operation: 'CREATE' as const, namespace, name: 'r', object });

describe('cluster-scoped templates under the shipped policies', () => {
  let shipped: Engine;
  beforeAll(async () => { shipped = await shippedEngine(); });

  it.each<[string, Json]>([
    ['a Trainer GPU ClusterTrainingRuntime (no selection, no tolerations)', clusterTrainingRuntime(GPU2)],
    ['a KServe GPU ClusterServingRuntime', clusterServingRuntime()],
  ])('installs %s: judged by the cluster-scope policy, not denied', (_n, o) => {
    for (const op of ['mutate', 'validate'] as const) {
      const v = shipped[op](req(o));
      expect(v.skipped).toBeUndefined();
      expect(v.policy?.name).toBe(CLUSTER_SCOPE_POLICY);
      expect(v.denials).toEqual([]);
      expect(v.patch).toEqual([]);
    }
    expect(shipped.validate(req(o)).warnings).toEqual([]);
  });

  it('warns (default mode) on an internally inconsistent runtime: a GPU request without a limit', () => {
    const v = shipped.validate(req(clusterTrainingRuntime({ resources: { requests: { 'nvidia.com/gpu': '2' } } })));
    expect(v.denials).toEqual([]);
    expect(v.warnings.map((f) => `${f.ruleId}@${f.path}`)).toEqual([`accelerator-limits@${PATH}.containers[0].resources.limits[nvidia.com/gpu]`]);
  });

  it('a namespaced TrainingRuntime is judged by its namespace as before (strict default: no accelerators)', () => {
    const v = shipped.validate(req(clusterTrainingRuntime(GPU2, {}, 'TrainingRuntime'), 'default'));
    expect(v.policy?.name).toBe('strict-default');
    expect(v.denials.map((f) => f.ruleId)).toContain('accelerator-allowed');
  });
});

describe('the clusterScope setting of the default policy', () => {
  const withSetting = (clusterScope: Json): Engine => engine([policy({ default: true, accelerators: { allowed: false }, clusterScope } as never)]);

  it.each<[string, Json, Json, string[], string[]]>([
    ['warn by default', {}, clusterTrainingRuntime({ resources: { requests: { 'nvidia.com/gpu': '1' } } }), [], ['accelerator-limits']],
    ['mode enforce denies', { mode: 'enforce' }, clusterTrainingRuntime({ resources: { requests: { 'nvidia.com/gpu': '1' } } }), ['accelerator-limits'], []],
    ['more than any pool holds per Pod (a100 holds 8)', { mode: 'enforce' }, clusterTrainingRuntime({ resources: { limits: { 'nvidia.com/gpu': '16' } } }), ['accelerator-quantity'], []],
    ['a selection that matches no pool of the catalogue', { mode: 'enforce' }, clusterTrainingRuntime(GPU2, { nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-b200' } }), ['pool-selection'], []],
    ['only the rules it lists', { mode: 'enforce', rules: ['accelerator-limits'] }, clusterTrainingRuntime(GPU2, { nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-b200' } }), [], []],
  ])('%s', (_n, setting, o, denied, warned) => {
    const v = withSetting(setting).validate(req(o));
    expect([...new Set(v.denials.map((f) => f.ruleId))]).toEqual(denied);
    expect([...new Set(v.warnings.map((f) => f.ruleId))]).toEqual(warned);
  });

  it('allows a consistent GPU runtime although the default policy allows no accelerators', () => {
    const v = withSetting({ mode: 'enforce' }).validate(req(clusterTrainingRuntime(GPU2)));
    expect([...v.denials, ...v.warnings]).toEqual([]);
  });

  it.each<[string, string, RegExp]>([
    ['only on the default policy', 'spec:\n  namespaces: {names: [a]}\n  clusterScope: {mode: enforce}\n', /spec\.clusterScope: only the default policy/],
    ['names known rules', 'spec:\n  default: true\n  clusterScope: {rules: [no-such-rule]}\n', /spec\.clusterScope\.rules\[0\]: no rule is named "no-such-rule"/],
    ['a known mode', 'spec:\n  default: true\n  clusterScope: {mode: sometimes}\n', /clusterScope/],
  ])('policy files: %s', (_n, spec, problem) => {
    const text = `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: p}\n${spec}`;
    expect(checkPolicies([{ path: 'p.yaml', text }]).problems.join('\n')).toMatch(problem);
  });

  it('audit judges a cluster-scoped manifest with an empty namespace, whatever --namespace says', async () => {
    const r = auditObject(await shippedEngine(), { file: 'r.yaml', line: 1, index: 0, object: clusterTrainingRuntime(GPU2) } as never, 'default');
    expect([r.namespace, r.policy, r.verdict]).toEqual(['', CLUSTER_SCOPE_POLICY, 'allowed']);
  });
});
