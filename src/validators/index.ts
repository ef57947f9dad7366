/**
 * The compiled validators with their types (the generated modules are untyped). Each is an ajv
 * validate function: call it, then read `.errors` (ajv's ErrorObjects) when it returns false.
 */
import type { ErrorObject } from 'ajv';
import * as policy from './policy.generated.js';
import * as request from './request.generated.js';

export type Validator<T = unknown> = ((data: unknown) => data is T) & { errors?: ErrorObject[] | null };

const typed = <T = unknown>(f: unknown): Validator<T> => f as Validator<T>;

export const validateGpuPool = typed(policy.gpuPool);
export const validateAcceleratorConfig = typed(policy.acceleratorConfig);
export const validateNamespacePolicy = typed(policy.namespacePolicy);
export const validatePodSpecShape = typed(request.podSpecShape);
export const validateReview = typed(request.review);
