#!/usr/bin/env node
// `npm run test:corpus`: the external corpus suite when ../shared/corpus exists, else one line and
// exit 0 (the corpus is optional; the project's own fixtures live in test/fixtures/).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const corpus = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
if (!existsSync(`${corpus}public`) || !existsSync(`${corpus}reviews`)) {
  console.log('corpus suite skipped: ../shared/corpus not found (the external corpus is optional)');
  process.exit(0);
}
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/corpus/vitest.config.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
