// The admission policy floor on hand-written Pods (the differential test in floor.test.ts covers
// thousands more): what it refuses, what it leaves to the webhook, and the harness's quantities.
import { describe, expect, it } from 'vitest';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { admissionPolicyFloor, type FloorPolicy } from '../../src/vap/floor.js';
import { selectorMatches } from '../../src/policy/resolve.js';
import { POLICIES_DIR } from '../fuzz/properties.js';
import { evaluateVap, parseK8sQuantity } from './harness.js';

type Json = Record<string, unknown>;

const floor = admissionPolicyFloor(await loadPolicyDir(POLICIES_DIR));

/** The rule ids the floor refuses the Pod for, in namespace `ns` with `labels`. */
function refused(spec: Json, ns: string, labels: Record<string, string> = {}, meta: Json = {}, username = 'alice'): string[] {
  const all = { ...labels, 'kubernetes.io/metadata.name': ns };
  const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns, ...meta }, spec };
  return floor.flatMap((fp: FloorPolicy) => {
    if (!fp.bindings.some((b) => selectorMatches(b.spec.matchResources.namespaceSelector, all))) return [];
    const r = evaluateVap(fp.vap, { object, namespaceObject: { metadata: { name: ns, labels: all } }, request: { operation: 'CREATE', namespace: ns, userInfo: { username } } });
    expect(r.errors).toEqual([]);
    return r.failed.map((i) => fp.validations[i]?.rule as string);
  });
}

const gpu = (n: string, extra: Json = {}): Json => ({ name: 'main', image: 'x', resources: { limits: { 'nvidia.com/gpu': n } }, ...extra });
const cpu = (extra: Json = {}): Json => ({ name: 'web', image: 'x', resources: { limits: { cpu: '1' } }, ...extra });
const gpuToleration = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };

describe('the floor of the shipped policies', () => {
  it.each<[string, Json, string, Record<string, string>, string[]]>([
    ['a GPU in a namespace of the strict default', { containers: [gpu('1')] }, 'default', {}, ['accelerator-allowed']],
    ['a GPU in research', { containers: [gpu('1')] }, 'research', {}, []],
    ['a GPU in a namespace labelled for research', { containers: [gpu('1')] }, 'team-a', { 'gpu-admission.io/profile': 'research' }, []],
    ['half a GPU', { containers: [gpu('500m')] }, 'research', {}, ['accelerator-limits']],
    ['requests differing from limits', { containers: [gpu('2', { resources: { limits: { 'nvidia.com/gpu': '2' }, requests: { 'nvidia.com/gpu': '1' } } })] }, 'research', {}, ['accelerator-limits']],
    ['9 GPUs where 8 per Pod are allowed', { containers: [gpu('5'), gpu('4', { name: 'b' })] }, 'research', {}, ['accelerator-quantity']],
    ['an AMD GPU where only nvidia.com/gpu is allowed', { containers: [{ name: 'm', image: 'x', resources: { limits: { 'amd.com/gpu': '1' } } }] }, 'inference', {}, ['accelerator-allowed']],
    ['a CPU Pod tolerating the GPU taint', { containers: [cpu()], tolerations: [gpuToleration] }, 'research', {}, ['gpu-squatting']],
    ['a CPU Pod tolerating everything', { containers: [cpu()], tolerations: [{ operator: 'Exists' }] }, 'default', {}, ['gpu-squatting']],
    ['a GPU Pod tolerating the GPU taint', { containers: [gpu('1')], tolerations: [gpuToleration] }, 'research', {}, []],
    ['NVIDIA_VISIBLE_DEVICES=all', { containers: [cpu({ env: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }] })] }, 'default', {}, ['visible-devices']],
    ['NVIDIA_VISIBLE_DEVICES=void', { containers: [cpu({ env: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'void' }] })] }, 'default', {}, []],
    ['a privileged GPU container', { containers: [gpu('1', { securityContext: { privileged: true } })] }, 'research', {}, ['privileged-accelerator']],
    ['a privileged CPU container (reach through pools: the webhook\'s)', { containers: [cpu({ securityContext: { privileged: true } })] }, 'research', {}, []],
    ['/dev/nvidia0 in a GPU Pod', { containers: [gpu('1')], volumes: [{ name: 'd', hostPath: { path: '/dev/nvidia0' } }] }, 'research', {}, ['device-hostpath']],
    ['system-node-critical', { containers: [cpu()], priorityClassName: 'system-node-critical' }, 'research', {}, ['priority-class']],
    ['a class outside the allowed ones (the globalDefault is the webhook\'s to know)', { containers: [cpu()], priorityClassName: 'other' }, 'inference', {}, []],
    ['anything in an exempt namespace', { containers: [gpu('1', { securityContext: { privileged: true } })], tolerations: [{ operator: 'Exists' }] }, 'gpu-operator', {}, []],
    ['anything in an excluded namespace', { containers: [gpu('1')] }, 'kube-system', {}, []],
  ])('%s', (_what, spec, ns, labels, rules) => {
    expect(refused(spec, ns, labels)).toEqual(rules);
  });

  it('a KAI gpu-fraction annotation is an accelerator request', () => {
    expect(refused({ containers: [cpu()] }, 'default', {}, { annotations: { 'gpu-fraction': '0.5' } })).toEqual(['accelerator-allowed']);
  });
});

describe('the harness quantity library', () => {
  it.each<[string, string | undefined]>([
    ['1', '1/1'], ['1.0', '10/10'], ['500m', '500/1000'], ['1e3', '1000/1'], ['1Ki', '1024/1'], ['+1', '1/1'], ['-1', '-1/1'], ['.5', '5/10'], ['1.', '1/1'],
    [' 1', undefined], ['', undefined], ['x', undefined], ['1 ', undefined], ['1KiB', undefined],
  ])('%j', (text, expected) => {
    const q = parseK8sQuantity(text);
    expect(q ? `${q.num}/${q.den}` : undefined).toBe(expected);
  });
});
