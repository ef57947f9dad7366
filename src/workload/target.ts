import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { OperatorFills } from './kinds.js';

/** A Pod spec found in an object, with where it lives. */
export interface PodSpecTarget {
  spec: V1PodSpec;
  /** JSON Pointer of the spec in the object (`/spec`, `/spec/template/spec`). */
  pointer: string;
  /** Dotted path of the spec for messages (`spec`, `spec.template.spec`). */
  path: string;
  /** Metadata of the Pod or of the template. */
  metadata?: V1ObjectMeta;
  /**
   * JSON Pointer where the Pod's or template's metadata lives (or would be added), when the spec
   * sits in a PodTemplateSpec or a Pod; absent for bare PodSpecs and virtual specs.
   */
  metadataPointer?: string;
  isTemplate: boolean;
  /**
   * Assembled from container-like fields (KServe `model`, Trainer `resourcesPerNode`): it can be
   * validated but not patched.
   */
  virtual?: boolean;
  /** Node selection and tolerations live elsewhere (a runtime, overrides): scheduling rules skip it. */
  partial?: boolean;
  /** Message paths of `containers[i]` when they differ from `containers[i]` (virtual specs). */
  containerPaths?: ContainerPath[];
  /** What the kind's operator adds to the Pods it creates from this spec (kinds.ts). */
  fills?: OperatorFills;
}

export interface ContainerPath {
  path: string;
  /** Where the container-like field keeps its resources, when not at `<path>.resources`. */
  resourcesPath?: string;
}
