import { describe, expect, it } from 'vitest';
import { defaultPullPolicy, effectivePullPolicy, isPinned, parseImageRef } from '../../src/workload/images.js';

describe('image references', () => {
  it.each<[string, { name: string; tag?: string; digest?: string }, boolean, 'Always' | 'IfNotPresent']>([
    ['vllm/vllm-openai', { name: 'vllm/vllm-openai' }, false, 'Always'],
    ['vllm/vllm-openai:latest', { name: 'vllm/vllm-openai', tag: 'latest' }, false, 'Always'],
    ['vllm/vllm-openai:v0.10.0', { name: 'vllm/vllm-openai', tag: 'v0.10.0' }, true, 'IfNotPresent'],
    ['registry.example.com:5000/img', { name: 'registry.example.com:5000/img' }, false, 'Always'],
    ['registry.example.com:5000/team/img:1.2', { name: 'registry.example.com:5000/team/img', tag: '1.2' }, true, 'IfNotPresent'],
    ['localhost:5000/img:latest', { name: 'localhost:5000/img', tag: 'latest' }, false, 'Always'],
    ['img@sha256:abc', { name: 'img', digest: 'sha256:abc' }, true, 'IfNotPresent'],
    ['img:2.1@sha256:abc', { name: 'img', tag: '2.1', digest: 'sha256:abc' }, true, 'IfNotPresent'],
    // The API server reads the tag latest even next to a digest: it defaults to Always.
    ['img:latest@sha256:abc', { name: 'img', tag: 'latest', digest: 'sha256:abc' }, true, 'Always'],
    ['host:5000/img@sha256:abc', { name: 'host:5000/img', digest: 'sha256:abc' }, true, 'IfNotPresent'],
    ['nvcr.io/nvidia/pytorch:24.08-py3', { name: 'nvcr.io/nvidia/pytorch', tag: '24.08-py3' }, true, 'IfNotPresent'],
    ['  busybox  ', { name: 'busybox' }, false, 'Always'],
  ])('%s', (image, ref, pinned, policy) => {
    const got = parseImageRef(image);
    expect(got).toEqual(ref);
    expect(isPinned(got!)).toBe(pinned);
    expect(defaultPullPolicy(got!)).toBe(policy);
  });

  it('is undefined for what is not a reference', () => {
    expect(parseImageRef(undefined)).toBeUndefined();
    expect(parseImageRef('')).toBeUndefined();
    expect(parseImageRef('   ')).toBeUndefined();
    expect(parseImageRef(42)).toBeUndefined();
  });

  it('takes the written policy over the default', () => {
    const ref = parseImageRef('img:1.0')!;
    expect(effectivePullPolicy(ref, 'Always')).toBe('Always');
    expect(effectivePullPolicy(ref, undefined)).toBe('IfNotPresent');
    expect(effectivePullPolicy(parseImageRef('img')!, '')).toBe('Always');
  });
});
