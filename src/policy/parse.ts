/** Policy documents (already read) -> a validated, normalised PolicySet. Pure: no file access. */
import { MUTATORS, WORKLOAD_MUTATORS } from '../mutators/index.js';
import { RULE_IDS, RULES } from '../rules/index.js';
import { AUDIT_ONLY_RULES } from '../rules/audit-only.js';
import { formatAjvError } from '../util/ajv-errors.js';
import { basename, join } from 'node:path';
import { validateAcceleratorConfig, validateGpuPool, validateNamespacePolicy, type Validator } from '../validators/index.js';
import { crossCheck, type GpuPoolDoc, type NamespacePolicyDoc, toPolicy, toPool } from './normalize.js';
import { describeOverlap, overlappingSelectors } from './overlap.js';
import { UserError } from '../util/errors.js';
import { parseYamlDocuments } from '../util/yaml.js';
import { type AcceleratorConfig, API_VERSION, type GpuPool, type NamespacePolicy, type PolicySet } from './types.js';

/** Every problem of a policy set, each naming the file, document and field. */
export class PolicyError extends UserError {
  constructor(readonly problems: string[]) {
    super(`invalid policies:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PolicyError';
  }
}

export interface PolicyFile {
  path: string;
  text: string;
}

// The schemas of policy/schema.ts, compiled ahead of time (src/validators/, `npm run validators`).
const validators: Record<string, Validator> = {
  GpuPool: validateGpuPool,
  AcceleratorConfig: validateAcceleratorConfig,
  NamespacePolicy: validateNamespacePolicy,
};

function parseDocuments(file: PolicyFile): { docs: unknown[]; problems: string[] } {
  try {
    const docs = file.path.endsWith('.json') ? [JSON.parse(file.text) as unknown] : parseYamlDocuments(file.text).map((d) => d.value);
    return { docs, problems: [] };
  } catch (err) {
    return { docs: [], problems: [`${file.path}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`] };
  }
}

/** Rule and mutator ids an exemption may lift ('*' lifts all). */
const LIFTABLE = new Set(['*', ...RULE_IDS, ...AUDIT_ONLY_RULES.map((r) => r.id), ...MUTATORS.map((m) => m.id), ...WORKLOAD_MUTATORS.map((m) => m.id)]);

function unknownExemptionIds(p: NamespacePolicy): string[] {
  const out: string[] = [];
  p.exemptions.forEach((e, i) => e.rules.forEach((id, j) => {
    if (!LIFTABLE.has(id)) {
      out.push(`NamespacePolicy "${p.name}" (${p.source}): spec.exemptions[${i}].rules[${j}]: no rule or mutator is named "${id}" (known: ${[...LIFTABLE].filter((x) => x !== '*').join(', ')}, or *)`);
    }
  }));
  (p.clusterScope?.rules ?? []).forEach((id, j) => {
    if (!RULES.some((r) => r.id === id)) out.push(`NamespacePolicy "${p.name}" (${p.source}): spec.clusterScope.rules[${j}]: no rule is named "${id}" (known: ${RULES.map((r) => r.id).join(', ')})`);
  });
  return out;
}

export interface PolicyCheck {
  /** Every problem: YAML, schema, cross-document, unknown ids, overlapping selectors. */
  problems: string[];
  /** What parsed, even when other documents did not (for checks that can still run, e.g. overlaps). */
  pools: GpuPool[];
  policies: NamespacePolicy[];
  accelerators?: AcceleratorConfig;
}

interface AcceleratorConfigDoc {
  metadata: { name: string };
  spec: { resources?: string[]; ignore?: string[]; guessByName?: boolean };
}

function toAcceleratorConfig(doc: AcceleratorConfigDoc): AcceleratorConfig {
  const s = doc.spec;
  return { name: doc.metadata.name, resources: s.resources ?? [], ignore: s.ignore ?? [], guessByName: s.guessByName ?? true };
}

/** Validates and normalises policy documents; throws PolicyError listing every problem. */
export function parsePolicies(files: PolicyFile[]): PolicySet {
  const { problems, pools, policies, accelerators } = checkPolicies(files);
  if (problems.length > 0) throw new PolicyError(problems);
  return { ...(accelerators ? { accelerators } : {}), pools, poolsByName: new Map(pools.map((p) => [p.name, p])), policies, files: files.map((f) => f.path) };
}

/** Like parsePolicies, but returns the problems with whatever did parse instead of throwing. */
export function checkPolicies(files: PolicyFile[]): PolicyCheck {
  const problems: string[] = [];
  const pools: GpuPool[] = [];
  const policies: NamespacePolicy[] = [];
  const configs: AcceleratorConfig[] = [];
  for (const file of files) {
    const parsed = parseDocuments(file);
    problems.push(...parsed.problems);
    parsed.docs.forEach((doc, i) => {
      const where = `${file.path} document ${i + 1}`;
      const d = doc as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
      if (typeof doc !== 'object' || Array.isArray(doc)) return void problems.push(`${where}: not a mapping`);
      if (d.apiVersion !== API_VERSION) return void problems.push(`${where}: apiVersion must be ${API_VERSION}, got ${JSON.stringify(d.apiVersion)}`);
      const validate = validators[String(d.kind)];
      if (!validate) return void problems.push(`${where}: kind must be GpuPool or NamespacePolicy (or AcceleratorConfig), got ${JSON.stringify(d.kind)}`);
      const label = `${where} (${String(d.kind)} ${JSON.stringify(d.metadata?.name ?? '?')})`;
      if (!validate(doc)) {
        for (const e of validate.errors ?? []) problems.push(`${label}: ${formatAjvError(e)}`);
        return;
      }
      if (d.kind === 'GpuPool') pools.push(toPool(doc as GpuPoolDoc));
      else if (d.kind === 'AcceleratorConfig') configs.push(toAcceleratorConfig(doc as AcceleratorConfigDoc));
      else policies.push(toPolicy(doc as NamespacePolicyDoc, basename(file.path)));
    });
  }
  // Overlaps are checked here, not only by `policy validate`: serve and the CLI share one path.
  problems.push(...crossCheck(pools, policies), ...policies.flatMap(unknownExemptionIds), ...overlappingSelectors(policies).map(describeOverlap));
  if (configs.length > 1) problems.push(`more than one AcceleratorConfig (${configs.map((c) => `"${c.name}"`).join(', ')}): there is one accelerator configuration for the cluster`);
  return { problems, pools, policies, ...(configs[0] ? { accelerators: configs[0] } : {}) };
}
