import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatorSources } from '../src/validators/source.js';
import { validateNamespacePolicy, validatePodSpecShape, validateReview } from '../src/validators/index.js';

const DIR = join(import.meta.dirname, '..', 'src', 'validators');

describe('validators compiled ahead of time', () => {
  it.each(Object.entries(validatorSources()))('src/validators/%s is what the schemas compile to now (npm run validators)', (name, text) => {
    expect(readFileSync(join(DIR, name), 'utf8') === text, `src/validators/${name} is out of date: run npm run validators`).toBe(true);
  });

  it('refuse what the schemas refuse, with ajv\'s errors', () => {
    expect(validateReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })).toBe(false);
    expect(validateReview.errors?.[0]).toMatchObject({ keyword: 'required', params: { missingProperty: 'request' } });
    expect(validatePodSpecShape({ containers: [{ name: 'a', resources: { limits: 5 } }] })).toBe(false);
    expect(validateNamespacePolicy({ apiVersion: 'gpu-admission.io/v1alpha1', kind: 'NamespacePolicy', metadata: { name: 'p' }, spec: { mode: 'block', acelerators: {} } })).toBe(false);
    // allErrors for policies: every problem in one run.
    expect(validateNamespacePolicy.errors?.length).toBeGreaterThanOrEqual(2);
  });
});
