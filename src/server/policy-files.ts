/** Reading policy files from a directory (the ConfigMap mount or policies/). */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePolicies, PolicyError, type PolicyFile } from '../policy/parse.js';
import type { PolicySet } from '../policy/types.js';

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
