import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { acceleratorLimits as rule } from '../../src/rules/accelerator-limits.js';
import { analysisOf, cpuContainer, gpuContainer, podSpec } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures, limitOnly, withResources } from './helpers.js';

const ID = 'accelerator-limits';
const LIMIT = 'spec.containers[0].resources.limits[nvidia.com/gpu]';
const REQUEST = 'spec.containers[0].resources.requests[nvidia.com/gpu]';
const gpu = (limit: unknown, request?: unknown): V1Container =>
  withResources('main', { 'nvidia.com/gpu': limit, memory: '8Gi' }, request === undefined ? undefined : { 'nvidia.com/gpu': request });

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['limit = request = "1"', podSpec()],
    ['limit = request = "8"', podSpec({ containers: [gpuContainer({}, '8')] })],
    ['number 1 on both sides', podSpec({ containers: [gpu(1, 1)] })],
    ['number limit, string request', podSpec({ containers: [gpu(2, '2')] })],
    ['limits only (an undefaulted Pod template)', podSpec({ containers: [limitOnly('main', '1')] })],
    ['"1e3" is a whole number', podSpec({ containers: [gpu('1e3', '1e3')] })],
    ['"2Gi" is a whole number', podSpec({ containers: [gpu('2Gi')] })],
    ['"1000m" request equals limit "1"', podSpec({ containers: [gpu('1', '1000m')] })],
    ['"2000m" limit is two devices', podSpec({ containers: [gpu('2000m')] })],
    ['MIG slice', podSpec({ containers: [gpuContainer({}, '1', 'nvidia.com/mig-1g.5gb')] })],
    ['init container and sidecar with limits', podSpec({ initContainers: [limitOnly('init', '1'), limitOnly('side', '1', 'nvidia.com/gpu', { restartPolicy: 'Always' })] })],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, V1PodSpec]>([
    ['a CPU-only Pod', { containers: [cpuContainer()] }, { containers: [withResources('main', { cpu: '1', 'nvidia.com/gpu': '0.5' })] }],
    ['a Pod with no resources at all', { containers: [{ name: 'main', image: 'busybox' }] }, { containers: [withResources('main', undefined, { 'nvidia.com/gpu': '1' })] }],
    ['a Pod requesting only non-accelerator extended resources', { containers: [withResources('main', { 'example.com/dongle': '0.5' })] }, { containers: [withResources('main', { 'nvidia.com/gpu': '0.5' })] }],
  ])('skips %s, and fails its twin with a bad accelerator quantity', (_n, spec, bad) => {
    expectSkipGuard(rule, analysisOf(spec), analysisOf(bad));
  });

  it.each<[string, unknown, string]>([
    ['"0"', '0', '"0"'],
    ['number 0', 0, '0'],
    ['"0.5"', '0.5', '"0.5"'],
    ['"500m"', '500m', '"500m"'],
    ['"-1"', '-1', '"-1"'],
    ['number 1.5', 1.5, '1.5'],
    ['"one"', 'one', '"one"'],
    ['an empty string', '', '""'],
  ])('denies a limit of %s', (_n, limit, shown) => {
    expectOne(failures(rule.check(analysisOf(podSpec({ containers: [gpu(limit)] })))), {
      ruleId: ID,
      path: LIMIT,
      message: ['container "main"', `limit ${shown}`, 'nvidia.com/gpu', 'not a positive whole number'],
      fix: ['whole number of at least 1', 'remove nvidia.com/gpu'],
    });
  });

  it.each<[string, unknown]>([['"1"', '1'], ['number 2', 2]])('denies a request of %s without a limit', (_n, request) => {
    const spec = podSpec({ containers: [withResources('main', { memory: '8Gi' }, { 'nvidia.com/gpu': request })] });
    expectOne(failures(rule.check(analysisOf(spec))), {
      ruleId: ID,
      path: LIMIT,
      message: ['container "main"', 'requests nvidia.com/gpu without a limit', 'allocated by their limit'],
      fix: ['resources.limits["nvidia.com/gpu"]', String(JSON.stringify(request))],
    });
  });

  it.each<[string, unknown, unknown]>([
    ['request 1 < limit 2', '2', '1'],
    ['request 2 > limit 1', '1', '2'],
    ['number request 2, limit "1"', '1', 2],
    ['unparseable request', '1', 'x'],
  ])('denies request != limit: %s', (_n, limit, request) => {
    expectOne(failures(rule.check(analysisOf(podSpec({ containers: [gpu(limit, request)] })))), {
      ruleId: ID,
      path: REQUEST,
      message: ['container "main"', 'cannot be overcommitted', 'nvidia.com/gpu'],
      fix: ['equal to the limit', `(${JSON.stringify(limit)})`, 'drop the request'],
    });
  });

  it('names the init container, sidecar or second container at fault, once per resource', () => {
    const spec = podSpec({
      initContainers: [limitOnly('init', '0.5'), limitOnly('side', '0', 'amd.com/gpu', { restartPolicy: 'Always' })],
      containers: [gpuContainer(), withResources('second', undefined, { 'nvidia.com/mig-1g.5gb': '1' })],
    });
    const findings = failures(rule.check(analysisOf(spec)));
    expect(findings.map((f) => [f.ruleId, f.path])).toEqual([
      [ID, 'spec.initContainers[0].resources.limits[nvidia.com/gpu]'],
      [ID, 'spec.initContainers[1].resources.limits[amd.com/gpu]'],
      [ID, 'spec.containers[1].resources.limits[nvidia.com/mig-1g.5gb]'],
    ]);
    expect(findings[0]?.message).toContain('container "init"');
    expect(findings[2]?.message).toContain('container "second"');
  });

  it('prefixes paths of a Pod template', () => {
    const a = analysisOf(podSpec({ containers: [gpu('0')] }));
    a.target = { ...a.target, path: 'spec.template.spec', pointer: '/spec/template/spec', isTemplate: true };
    expect(failures(rule.check(a))[0]?.path).toBe('spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]');
  });
});
