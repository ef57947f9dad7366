import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { simulate } from '../../src/admission/simulate.js';
import type { Engine, EngineRequest, Verdict } from '../../src/engine/engine.js';
import { parseYamlDocuments } from '../../src/util/yaml.js';
import { groupOf } from '../../src/workload/kinds.js';

export { groupOf };
import { PUBLIC_DIR } from './app.js';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string }; spec?: unknown };

/** The manifest files of a folder (default: the project's own, test/fixtures/manifests). */
export function publicManifests(dir = PUBLIC_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
}

export function loadManifest(file: string, dir = PUBLIC_DIR): K8sObject[] {
  return parseYamlDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.value as K8sObject);
}

export function requestFor(obj: K8sObject, namespace: string, operation: EngineRequest['operation'] = 'CREATE'): EngineRequest {
  const object = structuredClone(obj);
  object.metadata = { ...object.metadata, namespace };
  return { kind: { group: groupOf(obj.apiVersion), kind: obj.kind }, operation, namespace, name: obj.metadata?.name, object };
}

/** What the API server would do: mutate, apply the patch, then validate the result (admission/simulate). */
export function admit(engine: Engine, req: EngineRequest): { mutated: Verdict; validated: Verdict; object: unknown } {
  const sim = simulate(engine, req);
  // A skipped object is skipped by both webhooks alike.
  return { mutated: sim.mutated, validated: sim.validated ?? sim.mutated, object: sim.object };
}

export function summary(v: Verdict): string {
  if (v.skipped) return 'skipped';
  if (v.denials.length > 0) return `denied: ${[...new Set(v.denials.map((f) => f.ruleId))].join(',')}`;
  if (v.warnings.length > 0) return `warned: ${[...new Set(v.warnings.map((f) => f.ruleId))].join(',')}`;
  return 'allowed';
}
