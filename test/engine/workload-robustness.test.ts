/**
 * Whole-object rules and mutators read fields outside the Pod templates (replicas, strategy,
 * rolloutStrategy, replica specs, numNodes, labels, ownerReferences). Objects that pass the API
 * server's schema can still carry surprises (CRDs with x-kubernetes-preserve-unknown-fields), and
 * files read by `audit` carry anything: every such field, replaced by a value of the wrong type,
 * must give an answer, never an exception (a 500 fails every Pod creation under failurePolicy Fail).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { createRequest } from '../../src/admission/simulate.js';
import { audit } from '../../src/audit/run.js';
import { parseYamlDocuments } from '../../src/util/yaml.js';
import { engine, policy } from '../support/fixtures.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'manifests');

type Json = Record<string, unknown>;

const workloads: Json[] = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).flatMap((f) =>
  parseYamlDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.value as Json).filter((o) => o && typeof o === 'object' && typeof o['kind'] === 'string'));

/** Every policy setting on: every whole-object rule and mutator has something to do. */
const everything = engine([policy({
  rollout: { progressDeadlineSeconds: 'auto', surgeOnly: 'enforce', recreate: 'enforce', minReadySeconds: 30 },
  disruption: { protect: 'all', budgets: 'enforce' },
  gang: { mode: 'required', defaultQueue: 'gpu-batch' },
  cuda: { check: 'enforce' },
  images: { unpinned: 'enforce', pullPolicy: 'IfNotPresent' },
  costLabels: { required: ['team'], fromNamespace: ['team'] },
  mutations: { templates: true },
})]);

/** JSON pointers of every value outside Pod specs (and the metadata of the object), up to a depth. */
function pointers(o: unknown, at = '', depth = 0, out: string[] = []): string[] {
  if (depth > 6 || o === null || typeof o !== 'object') return out;
  for (const [k, v] of Object.entries(o as Json)) {
    if (k === 'containers' || k === 'initContainers') continue;
    const p = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    out.push(p);
    pointers(v, p, depth + 1, out);
  }
  return out;
}

const WRONG: unknown[] = [null, 'x', -1, 0, 1.5, 1e21, [], {}, [null], true, '25%', '-5%', 'NaN'];

function replaced(o: Json, pointer: string, value: unknown): Json {
  const copy = structuredClone(o);
  try {
    return applyLikeApiServer(copy, [{ op: 'replace', path: pointer, value }]) as Json;
  } catch {
    return copy;
  }
}

describe('whole-object rules and mutators on objects with fields of the wrong type', () => {
  it('answers every one, and a patch it gives applies', () => {
    expect(workloads.length).toBeGreaterThan(20);
    const cases = fc.sample(fc.tuple(fc.nat(workloads.length - 1), fc.nat(10_000), fc.nat(WRONG.length - 1)), { numRuns: 3000, seed: 20261202 });
    let judged = 0;
    const audited: Json[] = [];
    const seen = new Set<string>();
    for (const [w, p, v] of cases) {
      const object = workloads[w] as Json;
      const ptrs = pointers(object);
      const object2 = replaced(object, ptrs[p % ptrs.length] as string, WRONG[v]);
      audited.push(object2);
      for (const operation of ['CREATE', 'UPDATE'] as const) {
        const req = { ...createRequest(object2, 'team'), operation, ...(operation === 'UPDATE' ? { oldObject: object } : {}) };
        const m = everything.mutate(req);
        if (m.patch.length > 0) applyLikeApiServer(object2, m.patch);
        for (const n of m.notes) seen.add(n.mutator);
        for (const f of everything.validate(req).denials) seen.add(f.ruleId);
        judged++;
      }
    }
    expect(judged).toBe(6000);
    // The audit's own whole-input check (disruption-budget) over the same objects, with budgets of every shape.
    const budgets = WRONG.map((selector, i) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: `b${i}`, namespace: 'team' }, spec: { selector } }));
    const results = audit(everything, [...audited, ...budgets].map((object, index) => ({ file: 'x.yaml', line: 1, index, object })), { namespace: 'team', budgets: true });
    expect(results.length).toBeGreaterThan(0);
    // The whole-object rules and mutators did run on these objects.
    for (const id of ['rollout-strategy', 'gang-scheduling', 'rollout', 'gang-queue', 'disruption', 'cost-labels']) expect(seen, id).toContain(id);
  });
});
