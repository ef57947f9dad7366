import { describe, expect, it } from 'vitest';
import {
  compareCuda, containerCuda, cudaCompat, cudaRequirement, imageCuda, nodeCuda, parseCudaVersion, parseRequireCuda, splitImage,
} from '../../src/workload/cuda.js';

describe('CUDA versions', () => {
  it.each<[unknown, { major: number; minor: number } | undefined]>([
    ['12.4', { major: 12, minor: 4 }],
    ['12.4.1', { major: 12, minor: 4 }],
    ['12', { major: 12, minor: 0 }],
    [' 11.8 ', { major: 11, minor: 8 }],
    ['12.10', { major: 12, minor: 10 }],
    ['twelve', undefined],
    ['12.x', undefined],
    ['', undefined],
    [12.4, undefined],
    ['12.4.1.2', undefined],
  ])('parses %j', (raw, want) => {
    expect(parseCudaVersion(raw)).toEqual(want);
  });

  it('compares numerically, not as strings (12.10 > 12.9)', () => {
    expect(compareCuda({ major: 12, minor: 10 }, { major: 12, minor: 9 })).toBeGreaterThan(0);
    expect(compareCuda({ major: 11, minor: 8 }, { major: 12, minor: 0 })).toBeLessThan(0);
  });

  it.each<[string, string, string]>([
    ['12.4', '12.8', 'ok'],
    ['11.8', '12.4', 'ok'],
    ['12.8', '12.8', 'ok'],
    ['12.8', '12.4', 'minor'],
    ['12.4', '11.8', 'major'],
    ['13.0', '12.9', 'major'],
  ])('needs %s on a driver of %s: %s', (needed, supported, want) => {
    expect(cudaCompat(parseCudaVersion(needed)!, parseCudaVersion(supported)!)).toBe(want);
  });
});

describe('GFD labels', () => {
  it('reads nvidia.com/cuda.runtime-version.*, the driver\'s highest CUDA version', () => {
    expect(nodeCuda({ 'nvidia.com/cuda.runtime-version.major': '12', 'nvidia.com/cuda.runtime-version.minor': '5', 'nvidia.com/cuda.driver-version.major': '550' }))
      .toEqual({ version: { major: 12, minor: 5 }, family: 'current' });
  });
  it('falls back to the deprecated nvidia.com/cuda.runtime.*', () => {
    expect(nodeCuda({ 'nvidia.com/cuda.runtime.major': '11', 'nvidia.com/cuda.runtime.minor': '8' })).toEqual({ version: { major: 11, minor: 8 }, family: 'deprecated' });
  });
  it('then to .full', () => {
    expect(nodeCuda({ 'nvidia.com/cuda.runtime-version.full': '12.2' })?.version).toEqual({ major: 12, minor: 2 });
  });
  it('never reads the driver version as a CUDA version', () => {
    expect(nodeCuda({ 'nvidia.com/cuda.driver-version.major': '550', 'nvidia.com/cuda.driver-version.minor': '107', 'nvidia.com/cuda.driver.major': '550', 'nvidia.com/cuda.driver.minor': '107' })).toBeUndefined();
  });
});

describe('image tags', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['nvidia/cuda:12.4.1-runtime-ubuntu22.04', '12.4', 'nvidia-cuda'],
    ['nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04', '12.4', 'nvidia-cuda'],
    ['docker.io/nvidia/cuda:11.8.0-base-ubuntu22.04', '11.8', 'nvidia-cuda'],
    ['nvcr.io/nvidia/cuda:12.6.3-devel-ubuntu24.04', '12.6', 'nvidia-cuda'],
    ['harbor.corp.example:5000/dockerhub-proxy/nvidia/cuda:12.2.0-base-ubi9', '12.2', 'nvidia-cuda'],
    ['nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:' + 'a'.repeat(64), '12.4', 'nvidia-cuda'],
    ['nvidia/cuda@sha256:' + 'a'.repeat(64), undefined, undefined],
    ['nvidia/cuda', undefined, undefined],
    ['nvidia/cuda:latest', undefined, undefined],
    ['pytorch/pytorch:2.3.0-cuda11.8-cudnn8-runtime', '11.8', 'pytorch'],
    ['ghcr.io/pytorch/pytorch:2.7.0-cuda12.8-cudnn9-devel', '12.8', 'pytorch'],
    ['pytorch/pytorch:latest', undefined, undefined],
    ['nvcr.io/nvidia/pytorch:24.05-py3', '12.4', 'ngc'],
    ['nvcr.io/nvidia/pytorch:19.05-py3', '10.1', 'ngc'],
    ['nvcr.io/nvidia/tensorflow:21.05-tf2-py3', '11.3', 'ngc'],
    ['nvcr.io/nvidia/pytorch:25.01-py3', undefined, undefined],
    ['example.com/nvidia/pytorch:24.05-py3', undefined, undefined],
    ['myorg/cuda:12.4.1', undefined, undefined],
    ['vllm/vllm-openai:v0.10.0', undefined, undefined],
  ])('%s', (image, version, family) => {
    const got = imageCuda(image);
    expect(got ? `${got.version.major}.${got.version.minor}` : undefined).toBe(version);
    expect(got?.family).toBe(family);
  });

  it('splits host, repository and tag', () => {
    expect(splitImage('localhost:5000/nvidia/cuda:12.4.1-base')).toEqual({ host: 'localhost:5000', repository: 'nvidia/cuda', tag: '12.4.1-base' });
    expect(splitImage('docker.io/library/ubuntu:22.04')).toEqual({ host: 'docker.io', repository: 'ubuntu', tag: '22.04' });
  });
});

describe('NVIDIA_REQUIRE_CUDA', () => {
  it('reads the cuda>= clause of an nvidia/cuda image value', () => {
    expect(parseRequireCuda('cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471')).toEqual({ major: 12, minor: 4 });
    expect(parseRequireCuda('brand=tesla,driver>=470')).toBeUndefined();
  });

  it('the container env replaces the image requirement; NVIDIA_DISABLE_REQUIRE turns the check off', () => {
    const image = 'nvidia/cuda:12.4.1-runtime-ubuntu22.04';
    expect(containerCuda({ container: { name: 'c', image }, path: 'spec.containers[0]' })).toMatchObject({ enforced: true, path: 'spec.containers[0].image', source: `image ${image}` });
    expect(containerCuda({ container: { name: 'c', image, env: [{ name: 'NVIDIA_REQUIRE_CUDA', value: 'cuda>=12.8' }] }, path: 'spec.containers[0]' }))
      .toMatchObject({ version: { major: 12, minor: 8 }, enforced: true, path: 'spec.containers[0].env[0]' });
    expect(containerCuda({ container: { name: 'c', image, env: [{ name: 'NVIDIA_DISABLE_REQUIRE', value: 'true' }] }, path: 'spec.containers[0]' })).toMatchObject({ enforced: false });
    expect(containerCuda({ container: { name: 'c', image, env: [{ name: 'NVIDIA_REQUIRE_CUDA', value: '' }] }, path: 'spec.containers[0]' })).toMatchObject({ enforced: false });
    expect(containerCuda({ container: { name: 'c', image: 'pytorch/pytorch:2.3.0-cuda11.8-cudnn8-runtime' }, path: 'spec.containers[0]' })).toMatchObject({ enforced: false });
  });

  it('the annotation wins over the images; the highest container requirement otherwise', () => {
    const containers = [
      { container: { name: 'a', image: 'pytorch/pytorch:2.3.0-cuda11.8-cudnn8-runtime' }, path: 'spec.containers[0]' },
      { container: { name: 'b', image: 'nvidia/cuda:12.4.1-base-ubuntu22.04' }, path: 'spec.containers[1]' },
    ];
    const fromImages = cudaRequirement([{ annotations: undefined, path: 'metadata' }], containers);
    expect(fromImages).toMatchObject({ status: 'known', requirement: { version: { major: 12, minor: 4 }, path: 'spec.containers[1].image' } });
    const annotated = cudaRequirement([{ annotations: { 'gpu-admission.io/cuda': '12.2' }, path: 'metadata' }], containers);
    expect(annotated).toMatchObject({ status: 'known', requirement: { version: { major: 12, minor: 2 }, source: 'the annotation gpu-admission.io/cuda', path: 'metadata.annotations[gpu-admission.io/cuda]', enforced: true } });
    expect(cudaRequirement([{ annotations: { 'gpu-admission.io/cuda': 'new' }, path: 'metadata' }], containers)).toEqual({ status: 'invalid', path: 'metadata.annotations[gpu-admission.io/cuda]', value: 'new' });
    expect(cudaRequirement([], [{ container: { name: 'a', image: 'busybox' }, path: 'spec.containers[0]' }])).toEqual({ status: 'unknown' });
  });
});
