import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, it } from 'vitest';
import { privilegedAccelerator as rule } from '../../src/rules/privileged-accelerator.js';
import { analysisOf, config, cpuContainer, defaultTolerations, gpuContainer, gpuToleration, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkipGuard, failures, GKE, partial } from './helpers.js';

const ID = 'privileged-accelerator';
const priv: Partial<V1Container> = { securityContext: { privileged: true } };
const caps = (...add: string[]): Partial<V1Container> => ({ securityContext: { capabilities: { add } } });
const gpu = (o: Partial<V1Container> = {}, spec: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [gpuContainer(o)], ...spec });
const cpu = (o: Partial<V1Container> = {}, spec: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [cpuContainer(o)], ...spec });

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['a GPU Pod, unprivileged', gpu({ securityContext: { privileged: false, capabilities: { drop: ['ALL'] } } })],
    ['a GPU Pod adding IPC_LOCK and NET_RAW', gpu(caps('IPC_LOCK', 'NET_RAW'))],
    ['a GPU Pod with a privileged: false init container', { initContainers: [cpuContainer({ securityContext: { privileged: false } })], containers: [gpuContainer()] }],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, string, string[]]>([
    ['a privileged GPU container', gpu(priv), 'spec.containers[0].securityContext.privileged', ['is privileged', 'requests an accelerator']],
    ['SYS_ADMIN in a GPU Pod', gpu(caps('NET_RAW', 'SYS_ADMIN')), 'spec.containers[0].securityContext.capabilities.add[1]', ['SYS_ADMIN']],
    ['CAP_SYS_ADMIN (prefixed spelling)', gpu(caps('CAP_SYS_ADMIN')), 'spec.containers[0].securityContext.capabilities.add[0]', ['CAP_SYS_ADMIN']],
    ['ALL in a GPU Pod', gpu(caps('ALL')), 'spec.containers[0].securityContext.capabilities.add[0]', ['ALL includes SYS_ADMIN']],
    ['a privileged CPU sidecar of a GPU Pod', { containers: [gpuContainer(), cpuContainer({ name: 'side', ...priv })] }, 'spec.containers[1].securityContext.privileged', ['"side"']],
    ['a privileged init container of a GPU Pod', { initContainers: [cpuContainer({ name: 'init', ...priv })], containers: [gpuContainer()] }, 'spec.initContainers[0].securityContext.privileged', ['"init"']],
    ['a privileged CPU Pod tolerating the GPU taint', cpu(priv, { tolerations: [gpuToleration()] }), 'spec.containers[0].securityContext.privileged', ['can land on GPU pool a100']],
    ['a privileged CPU Pod tolerating everything', cpu(priv, { tolerations: [{ operator: 'Exists' }] }), 'spec.containers[0].securityContext.privileged', ['mi300x']],
    ['a privileged CPU Pod named onto a node (offline: any pool)', cpu(priv, { nodeName: 'gpu-node-1' }), 'spec.containers[0].securityContext.privileged', ['spec.nodeName']],
  ])('denies %s', (_n, spec, path, message) => {
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path, message, fix: ['remove', 'exempt NamespacePolicy'] });
  });

  it.each<[string, V1PodSpec, V1PodSpec]>([
    ['a privileged CPU Pod with the default tolerations (cannot land on a tainted pool)', cpu(priv, { tolerations: defaultTolerations() }), cpu(priv, { tolerations: [...(defaultTolerations() ?? []), gpuToleration()] })],
    ['a privileged CPU Pod selecting a pool it does not tolerate', cpu(priv, { nodeSelector: { [GKE]: 'nvidia-l4' } }), gpu(priv, { nodeSelector: { [GKE]: 'nvidia-l4' } })],
    ['a CPU Pod adding SYS_ADMIN, off GPU nodes', cpu(caps('SYS_ADMIN')), gpu(caps('SYS_ADMIN'))],
  ])('skips %s, and fails its twin that can reach a GPU', (_n, spec, twin) => {
    expectSkipGuard(rule, analysisOf(spec), analysisOf(twin));
  });

  it('skips when the policy turns it off, and fails the same Pod under the default', () => {
    expectSkipGuard(rule, analysisOf(gpu(priv), policy({ deviceIsolation: { privileged: false } }), config()), analysisOf(gpu(priv)));
  });

  it('skips a partial template, and fails the same spec when it is whole', () => {
    const a = analysisOf(gpu(priv));
    expectSkipGuard(rule, partial(a), a);
  });
});
