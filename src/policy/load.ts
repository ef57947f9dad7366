import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gpuPoolSchema, namespacePolicySchema } from './schema.js';
import { crossCheck, type GpuPoolDoc, type NamespacePolicyDoc, toPolicy, toPool } from './normalize.js';
import { escapeToken, pointerToPath } from '../util/pointer.js';
import { parseYamlDocuments } from '../util/yaml.js';
import { API_VERSION, type GpuPool, type NamespacePolicy, type PolicySet } from './types.js';

export class PolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid policies:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PolicyError';
  }
}

export interface PolicyFile {
  path: string;
  text: string;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators: Record<string, ValidateFunction> = {
  GpuPool: ajv.compile(gpuPoolSchema),
  NamespacePolicy: ajv.compile(namespacePolicySchema),
};

function fieldPath(e: ErrorObject): string {
  const extra = e.keyword === 'additionalProperties' ? `/${escapeToken(String(e.params['additionalProperty']))}` : '';
  return pointerToPath(e.instancePath + extra) || '(document)';
}

function describeError(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'enum') return `must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(e.params['allowedValue'])}`;
  return e.message ?? e.keyword;
}

function parseDocuments(file: PolicyFile): { docs: unknown[]; problems: string[] } {
  try {
    const docs = file.path.endsWith('.json') ? [JSON.parse(file.text) as unknown] : parseYamlDocuments(file.text).map((d) => d.value);
    return { docs, problems: [] };
  } catch (err) {
    return { docs: [], problems: [`${file.path}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`] };
  }
}

/** Validates and normalises policy documents; throws PolicyError listing every problem. */
export function parsePolicies(files: PolicyFile[]): PolicySet {
  const problems: string[] = [];
  const pools: GpuPool[] = [];
  const policies: NamespacePolicy[] = [];
  for (const file of files) {
    const parsed = parseDocuments(file);
    problems.push(...parsed.problems);
    parsed.docs.forEach((doc, i) => {
      const where = `${file.path} document ${i + 1}`;
      const d = doc as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
      if (typeof doc !== 'object' || Array.isArray(doc)) return void problems.push(`${where}: not a mapping`);
      if (d.apiVersion !== API_VERSION) return void problems.push(`${where}: apiVersion must be ${API_VERSION}, got ${JSON.stringify(d.apiVersion)}`);
      const validate = validators[String(d.kind)];
      if (!validate) return void problems.push(`${where}: kind must be GpuPool or NamespacePolicy, got ${JSON.stringify(d.kind)}`);
      const label = `${where} (${String(d.kind)} ${JSON.stringify(d.metadata?.name ?? '?')})`;
      if (!validate(doc)) {
        for (const e of validate.errors ?? []) problems.push(`${label}: ${fieldPath(e)}: ${describeError(e)}`);
        return;
      }
      if (d.kind === 'GpuPool') pools.push(toPool(doc as GpuPoolDoc));
      else policies.push(toPolicy(doc as NamespacePolicyDoc, basename(file.path)));
    });
  }
  problems.push(...crossCheck(pools, policies));
  if (problems.length > 0) throw new PolicyError(problems);
  return { pools, poolsByName: new Map(pools.map((p) => [p.name, p])), policies, files: files.map((f) => f.path) };
}

const POLICY_FILE = /\.(ya?ml|json)$/;

/** Policy files of a directory, skipping dot entries (a ConfigMap mount's `..data` machinery) and schema.json. */
export async function readPolicyFiles(dir: string): Promise<PolicyFile[]> {
  const entries = (await readdir(dir)).filter((n) => !n.startsWith('.') && POLICY_FILE.test(n) && n !== 'schema.json').sort();
  const files: PolicyFile[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (!(await stat(path)).isFile()) continue;
    files.push({ path, text: await readFile(path, 'utf8') });
  }
  return files;
}

export async function loadPolicyDir(dir: string): Promise<PolicySet> {
  const files = await readPolicyFiles(dir);
  if (files.length === 0) throw new PolicyError([`${dir}: no policy files (*.yaml, *.yml, *.json)`]);
  return parsePolicies(files);
}
