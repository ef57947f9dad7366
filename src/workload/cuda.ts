/**
 * CUDA versions: what a workload needs (an annotation, the NVIDIA_REQUIRE_CUDA env, well-known
 * image tags) and what a node's driver supports (GPU Feature Discovery labels). Pure.
 *
 * Sources:
 * - GFD labels: NVIDIA/k8s-device-plugin internal/lm/nvml.go (newVersionLabeler) and the GFD README
 *   "Generated Labels": `nvidia.com/cuda.runtime-version.{major,minor,full}` is the highest CUDA
 *   version the driver supports (NVML SystemGetCudaDriverVersion, as nvidia-smi's "CUDA Version");
 *   `nvidia.com/cuda.driver-version.*` is the driver's own version (550.107.02), not a CUDA version.
 *   The deprecated `nvidia.com/cuda.runtime.{major,minor}` are still emitted and read as fallback.
 * - NVIDIA_REQUIRE_CUDA / NVIDIA_DISABLE_REQUIRE: NVIDIA/nvidia-container-toolkit
 *   internal/config/image/cuda_image.go (GetRequirements, HasDisableRequire: strconv.ParseBool);
 *   nvidia/cuda images set `NVIDIA_REQUIRE_CUDA "cuda>=<major.minor> brand=..."`
 *   (gitlab.com/nvidia/container-images/cuda dist/<ver>/<os>/base/Dockerfile).
 * - Minor version compatibility: https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html
 */
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';

export interface CudaVersion {
  major: number;
  minor: number;
}

export const CUDA_ANNOTATION = 'gpu-admission.io/cuda';

/** GFD labels of the highest CUDA version the driver supports, current names first. */
export const GFD_CUDA_LABELS = {
  current: { major: 'nvidia.com/cuda.runtime-version.major', minor: 'nvidia.com/cuda.runtime-version.minor', full: 'nvidia.com/cuda.runtime-version.full' },
  deprecated: { major: 'nvidia.com/cuda.runtime.major', minor: 'nvidia.com/cuda.runtime.minor' },
} as const;

export type GfdFamily = keyof typeof GFD_CUDA_LABELS;

const NUMBER = /^(0|[1-9]\d{0,3})$/;

/** `12`, `12.4`, `12.4.1` (the patch level does not matter for compatibility). */
export function parseCudaVersion(value: unknown): CudaVersion | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\s*v?(\d{1,4})(?:\.(\d{1,4}))?(?:\.\d{1,4})?\s*$/.exec(value);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: m[2] === undefined ? 0 : Number(m[2]) };
}

export function formatCuda(v: CudaVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareCuda(a: CudaVersion, b: CudaVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/**
 * How a driver supporting `supported` runs code that needs `needed`. `ok`: the driver is new
 * enough (backward compatibility). `minor`: same major version, older minor: runs under minor
 * version compatibility with a limited feature set (APIs of the newer minor that need a newer
 * driver are missing, and PTX from the newer compiler cannot be JIT-compiled). `major`: an older
 * major version: does not run. Forward compatibility (the cuda-compat packages on data-center
 * GPUs) is not modelled.
 */
export type CudaCompat = 'ok' | 'minor' | 'major';

export function cudaCompat(needed: CudaVersion, supported: CudaVersion): CudaCompat {
  if (compareCuda(supported, needed) >= 0) return 'ok';
  return supported.major === needed.major ? 'minor' : 'major';
}

/** The CUDA version a node's driver supports, from its GFD labels (current names, else the deprecated ones). */
export function nodeCuda(labels: Record<string, string>): { version: CudaVersion; family: GfdFamily } | undefined {
  for (const family of ['current', 'deprecated'] as const) {
    const keys = GFD_CUDA_LABELS[family];
    const major = labels[keys.major];
    const minor = labels[keys.minor];
    if (major !== undefined && minor !== undefined && NUMBER.test(major) && NUMBER.test(minor)) {
      return { version: { major: Number(major), minor: Number(minor) }, family };
    }
  }
  const full = parseCudaVersion(labels[GFD_CUDA_LABELS.current.full]);
  return full ? { version: full, family: 'current' } : undefined;
}

/** The `cuda>=X.Y` clause of an NVIDIA_REQUIRE_CUDA value, if any. */
export function parseRequireCuda(value: string): CudaVersion | undefined {
  const m = /(?:^|[\s,])cuda>=(\d+(?:\.\d+){0,2})(?=$|[\s,])/.exec(value);
  return m ? parseCudaVersion(m[1]) : undefined;
}

/** Go's strconv.ParseBool true values (the toolkit's HasDisableRequire). */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

export type ImageFamily = 'nvidia-cuda' | 'pytorch' | 'ngc';

/**
 * NGC framework releases whose CUDA version NVIDIA's release notes state (the tag `YY.MM-py3`
 * does not carry it). Only releases checked against the notes are listed:
 * - pytorch 19.05: CUDA 10.1 Update 1 (pytorch-release-notes/rel_19-05.html)
 * - pytorch and paddlepaddle 24.05: CUDA 12.4.1 (paddle-paddle-release-notes/rel-24-05.html, NGC
 *   frameworks of one month share the CUDA base)
 * - tensorflow 21.05: CUDA 11.3.0 (TensorFlow 21.05 release notes)
 */
const NGC: Readonly<Record<string, Readonly<Record<string, CudaVersion>>>> = {
  'nvidia/pytorch': { '19.05': { major: 10, minor: 1 }, '24.05': { major: 12, minor: 4 } },
  'nvidia/paddlepaddle': { '24.05': { major: 12, minor: 4 } },
  'nvidia/tensorflow': { '21.05': { major: 11, minor: 3 } },
};

/** Host, repository path and tag of an image reference (a digest alone leaves no tag). */
export function splitImage(image: string): { host?: string; repository: string; tag?: string } {
  const withoutDigest = image.split('@')[0] ?? '';
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : undefined;
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const parts = name.split('/');
  const first = parts[0] ?? '';
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first.toLowerCase() : undefined;
  let repository = (hasHost ? parts.slice(1) : parts).join('/');
  if (host === undefined || host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') repository = repository.replace(/^library\//, '');
  return { ...(host ? { host } : {}), repository, ...(tag ? { tag } : {}) };
}

/** The repository path is `name`, or a mirror's path ending in `/name` (`harbor.corp/dockerhub/nvidia/cuda`). */
const isRepo = (repository: string, name: string): boolean => repository === name || repository.endsWith(`/${name}`);

type ImageCuda = Readonly<{ version: Readonly<CudaVersion>; family: ImageFamily }>;

/**
 * Answers by image reference: a cluster runs few distinct images, and every review of a Pod of
 * one reads the same one. Bounded: cleared when it holds 2,000.
 */
const imageCudaCache = new Map<string, ImageCuda | undefined>();

/** The CUDA version a well-known image tag names, if any. */
export function imageCuda(image: unknown): ImageCuda | undefined {
  if (typeof image !== 'string' || image === '') return undefined;
  if (imageCudaCache.has(image)) return imageCudaCache.get(image);
  if (imageCudaCache.size >= 2000) imageCudaCache.clear();
  const found = parseImageCuda(image);
  const frozen = found ? Object.freeze({ version: Object.freeze(found.version), family: found.family }) : undefined;
  imageCudaCache.set(image, frozen);
  return frozen;
}

function parseImageCuda(image: string): { version: CudaVersion; family: ImageFamily } | undefined {
  const { host, repository, tag } = splitImage(image);
  if (!tag) return undefined;
  if (isRepo(repository, 'nvidia/cuda')) {
    // <major>.<minor>.<patch>-<flavor>-<os><ver>, e.g. 12.4.1-runtime-ubuntu22.04
    const m = /^(\d{1,3})\.(\d{1,3})(?:\.\d{1,3})?(?:-|$)/.exec(tag);
    return m ? { version: { major: Number(m[1]), minor: Number(m[2]) }, family: 'nvidia-cuda' } : undefined;
  }
  if (isRepo(repository, 'pytorch/pytorch')) {
    // <torch>-cuda<major.minor>-cudnn<N>-{runtime,devel}, e.g. 2.3.0-cuda11.8-cudnn8-runtime
    const m = /(?:^|-)cuda(\d{1,3})\.(\d{1,3})(?:-|$)/.exec(tag);
    return m ? { version: { major: Number(m[1]), minor: Number(m[2]) }, family: 'pytorch' } : undefined;
  }
  if (host === 'nvcr.io') {
    const table = NGC[repository];
    const release = /^(\d\d\.\d\d)(?:-|$)/.exec(tag)?.[1];
    const version = table && release ? table[release] : undefined;
    return version ? { version, family: 'ngc' } : undefined;
  }
  return undefined;
}

/** What one workload needs, and how the verdict names where it came from. */
export interface CudaRequirement {
  version: CudaVersion;
  /** `the annotation gpu-admission.io/cuda`, `image nvidia/cuda:12.4.1-runtime-ubuntu22.04`, ... */
  source: string;
  /** Field path of the annotation, image or env var. */
  path: string;
  /**
   * The NVIDIA Container Toolkit checks `cuda>=X.Y` at container start (NVIDIA_REQUIRE_CUDA of a
   * nvidia/cuda-based image or of the container's env, not disabled by NVIDIA_DISABLE_REQUIRE):
   * an older driver fails the start instead of running under minor version compatibility.
   */
  enforced: boolean;
  /** An NGC framework image: it ships the forward-compatibility package, so an old driver may still run it on data-center GPUs. */
  forwardCompatible: boolean;
}

export interface ContainerInput {
  container: V1Container;
  /** `spec.containers[0]` */
  path: string;
}

export interface AnnotationSource {
  annotations: Record<string, string> | undefined;
  /** `metadata` of the Pod, `spec.template.metadata`, ... */
  path: string;
}

export type RequirementResult =
  | { status: 'known'; requirement: CudaRequirement }
  | { status: 'invalid'; path: string; value: string }
  | { status: 'unknown' };

function envValue(env: V1EnvVar[] | undefined, name: string): { value: string; index: number } | undefined {
  if (!Array.isArray(env)) return undefined;
  // The last definition of a name wins, as the kubelet builds the environment.
  for (let i = env.length - 1; i >= 0; i--) {
    const e = env[i];
    if (e && e.name === name) return typeof e.value === 'string' ? { value: e.value, index: i } : { value: '', index: i };
  }
  return undefined;
}

/** One container's requirement: its env NVIDIA_REQUIRE_CUDA, else its image tag. */
export function containerCuda(input: ContainerInput): CudaRequirement | undefined {
  const { container, path } = input;
  const env = Array.isArray(container.env) ? container.env : undefined;
  const disabled = TRUE.has(envValue(env, 'NVIDIA_DISABLE_REQUIRE')?.value ?? '');
  const require = envValue(env, 'NVIDIA_REQUIRE_CUDA');
  const image = imageCuda(container.image);
  if (require) {
    const version = parseRequireCuda(require.value);
    if (version) {
      return { version, source: `env NVIDIA_REQUIRE_CUDA="${require.value}" of container "${container.name}"`, path: `${path}.env[${require.index}]`, enforced: !disabled, forwardCompatible: false };
    }
  }
  if (!image) return undefined;
  // The container's own NVIDIA_REQUIRE_CUDA (even empty) replaces the image's.
  const enforced = image.family === 'nvidia-cuda' && !require && !disabled;
  return { version: image.version, source: `image ${String(container.image)}`, path: `${path}.image`, enforced, forwardCompatible: image.family === 'ngc' };
}

/**
 * What the workload needs: the annotation (the first metadata that carries it), else the highest
 * version any accelerator container states.
 */
export function cudaRequirement(metadata: AnnotationSource[], containers: ContainerInput[]): RequirementResult {
  const fromContainers = containers.map(containerCuda).filter((r): r is CudaRequirement => r !== undefined);
  const highest = fromContainers.reduce<CudaRequirement | undefined>((best, r) => {
    if (!best) return r;
    const c = compareCuda(r.version, best.version);
    return c > 0 || (c === 0 && r.enforced && !best.enforced) ? r : best;
  }, undefined);
  for (const m of metadata) {
    const value = m.annotations && typeof m.annotations === 'object' ? m.annotations[CUDA_ANNOTATION] : undefined;
    if (value === undefined) continue;
    const path = `${m.path}.annotations[${CUDA_ANNOTATION}]`;
    const version = parseCudaVersion(value);
    if (!version) return { status: 'invalid', path, value: String(value) };
    // The toolkit still checks a container's own requirement when it is at least the annotated one.
    const enforced = fromContainers.some((r) => r.enforced && compareCuda(r.version, version) >= 0);
    return { status: 'known', requirement: { version, source: `the annotation ${CUDA_ANNOTATION}`, path, enforced, forwardCompatible: false } };
  }
  return highest ? { status: 'known', requirement: highest } : { status: 'unknown' };
}
