import { readFileSync } from 'node:fs';

/**
 * The package version, from the first gpu-admission package.json above this module: dist/cli/
 * (tsc output), dist/ or dist/chunks/ (the bundle) and src/cli/ (tests) all find the same file.
 */
export function version(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(new URL('package.json', dir), 'utf8');
    } catch {
      // no package.json here: look one directory up
    }
    const pkg = text === undefined ? undefined : (JSON.parse(text) as { name?: string; version?: string });
    if (pkg?.name === 'gpu-admission' && pkg.version) return pkg.version;
    if (dir.pathname === '/') throw new Error('package.json of gpu-admission not found above the program');
  }
}
