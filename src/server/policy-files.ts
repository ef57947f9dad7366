/** Reading policy files from a directory (the ConfigMap mount or policies/). */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePolicies, PolicyError, type PolicyFile } from '../policy/parse.js';
import type { PolicySet } from '../policy/types.js';

const POLICY_FILE = /\.(ya?ml|json)$/;

/** A name the webhook loads: YAML or JSON, not a dot entry (a ConfigMap mount's `..data` machinery), not schema.json. */
export function isPolicyFileName(name: string): boolean {
  return !name.startsWith('.') && POLICY_FILE.test(name) && name !== 'schema.json';
}

/** Policy files of a directory (regular files with a policy file name), sorted by name. */
export async function readPolicyFiles(dir: string): Promise<PolicyFile[]> {
  const entries = (await readdir(dir)).filter(isPolicyFileName).sort();
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
