import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/engine/analyse.js';
import type { PodAnalysis } from '../../src/engine/types.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { costLabels as rule } from '../../src/rules/cost-labels.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { config, cpuContainer, gpuContainer, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures } from './helpers.js';

const ID = 'cost-labels';
const gpu = (): V1PodSpec => ({ containers: [gpuContainer()] });
const cpu = (): V1PodSpec => ({ containers: [cpuContainer()] });
const requiring = (required: string[], fromNamespace: string[] = [], extra: Parameters<typeof policy>[0] = {}): NamespacePolicy =>
  policy({ ...extra, costLabels: { required, fromNamespace } });

/** The first Pod spec of an object of `group/Kind`, analysed in namespace team. */
function analysisFor(group: string, kind: string, object: Record<string, unknown>, pol: NamespacePolicy, namespaceLabels?: Record<string, string>): PodAnalysis {
  const [target] = findPodSpecs({ group, kind }, object);
  return analyse({ target: target!, namespace: 'team', objectMeta: object['metadata'] as never, policy: pol, config: config(), objectKind: `${group}/${kind}`, ...(namespaceLabels ? { namespaceLabels } : {}) });
}

const podOf = (labels: Record<string, string> | undefined, spec: V1PodSpec = gpu()): Record<string, unknown> =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team', ...(labels ? { labels } : {}) }, spec });
const deploymentOf = (labels: Record<string, string> | undefined, spec: V1PodSpec = gpu()): Record<string, unknown> =>
  ({ metadata: { name: 'd', labels: { team: 'on-the-deployment-only' } }, spec: { template: { metadata: labels ? { labels } : {}, spec } } });

const pod = (labels: Record<string, string> | undefined, pol: NamespacePolicy, ns?: Record<string, string>, spec?: V1PodSpec): PodAnalysis =>
  analysisFor('', 'Pod', podOf(labels, spec), pol, ns);
const template = (labels: Record<string, string> | undefined, pol: NamespacePolicy, ns?: Record<string, string>, spec?: V1PodSpec): PodAnalysis =>
  analysisFor('apps', 'Deployment', deploymentOf(labels, spec), pol, ns);

describe(ID, () => {
  it.each<[string, PodAnalysis]>([
    ['a GPU Pod with every required label', pod({ team: 'ml', 'cost-center': 'cc-1' }, requiring(['team', 'cost-center']))],
    ['a GPU template with the labels', template({ team: 'ml' }, requiring(['team']))],
    ['a template whose Pods will get team from the namespace', template(undefined, requiring(['team'], ['team']), { team: 'ml' })],
    ['a KServe InferenceService whose own labels reach its Pods', analysisFor('serving.kserve.io', 'InferenceService',
      { metadata: { name: 'm', labels: { team: 'ml' } }, spec: { predictor: { model: { modelFormat: { name: 'hf' }, resources: { limits: { 'nvidia.com/gpu': '1' } } } } } }, requiring(['team']))],
    ['a KServe predictor carrying the label itself', analysisFor('serving.kserve.io', 'InferenceService',
      { metadata: { name: 'm' }, spec: { predictor: { labels: { team: 'ml' }, model: { modelFormat: { name: 'hf' }, resources: { limits: { 'nvidia.com/gpu': '1' } } } } } }, requiring(['team']))],
  ])('allows %s', (_n, a) => {
    expectPass(rule.check(a));
  });

  it.each<[string, PodAnalysis, string, string[], string[]]>([
    ['a GPU Pod without labels', pod(undefined, requiring(['team', 'cost-center'])), 'metadata.labels', ['team, cost-center', 'OpenCost'], ['team: <value>, cost-center: <value>']],
    ['a GPU Pod with one of two labels', pod({ team: 'ml' }, requiring(['team', 'cost-center'])), 'metadata.labels', ['label cost-center'], ['cost-center: <value>']],
    ['an empty value', pod({ team: '' }, requiring(['team'])), 'metadata.labels', ['team'], []],
    ['a template with the label only on the Deployment itself', template(undefined, requiring(['team'])), 'spec.template.metadata.labels', ['Pod template'], ['spec.template.metadata.labels']],
    ['a template whose namespace lacks the copied label', template(undefined, requiring(['team'], ['team']), { other: 'x' }), 'spec.template.metadata.labels', ['team'], ['label namespace team with team']],
    // A Pod under review has been through the mutation already: the namespace label is not assumed.
    ['a Pod in a labelled namespace (mutation did not run: audit mode)', pod(undefined, requiring(['team'], ['team']), { team: 'ml' }), 'metadata.labels', ['team'], []],
    ['a template whose copy is switched off', template(undefined, requiring(['team'], ['team'], { mutations: { costLabels: false } }), { team: 'ml' }), 'spec.template.metadata.labels', ['team'], []],
    ['an InferenceService without the label', analysisFor('serving.kserve.io', 'InferenceService',
      { metadata: { name: 'm' }, spec: { predictor: { model: { modelFormat: { name: 'hf' }, resources: { limits: { 'nvidia.com/gpu': '1' } } } } } }, requiring(['team'])), 'metadata.labels', ['team'], []],
  ])('fails %s', (_n, a, path, message, fix) => {
    const f = expectOne(failures(rule.check(a)), { ruleId: ID, path, message, fix: [...fix, 'costLabels.required'] });
    expect(f.advisory).toBeUndefined();
  });

  it('skips when nothing is required, and fails the same Pod when a label is', () => {
    expectSkipGuard(rule, pod(undefined, policy()), pod(undefined, requiring(['team'])));
  });

  it('skips a Pod that requests no accelerator, and fails its GPU twin', () => {
    expectSkipGuard(rule, pod(undefined, requiring(['team']), undefined, cpu()), pod(undefined, requiring(['team'])));
  });

  it('skips specs whose Pod labels the operator sets from fields it does not see (Argo, TrainJob), and fails a Pod', () => {
    const wf = { metadata: { name: 'w', labels: { team: 'ml' } }, spec: { templates: [{ name: 'e', container: { image: 'e:1', resources: { limits: { 'nvidia.com/gpu': 1 } } } }] } };
    expectSkip(rule.check(analysisFor('argoproj.io', 'Workflow', wf, requiring(['team']))), 'set by the operator');
    const tj = { metadata: { name: 't' }, spec: { trainer: { resourcesPerNode: { limits: { 'nvidia.com/gpu': '2' } } } } };
    expectSkipGuard(rule, analysisFor('trainer.kubeflow.org', 'TrainJob', tj, requiring(['team'])), pod(undefined, requiring(['team'])));
  });
});
