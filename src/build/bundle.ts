/**
 * `npm run build`, after tsc: replaces dist/main.js with one esbuild bundle of src/main.ts and its
 * dependencies, lazily imported commands split into dist/chunks/. Start-up then reads a handful of
 * files instead of ~200 modules and their package.json lookups (docs/performance.md).
 * `node dist/build/bundle.js [--outdir <dir>]`, from the project root; fails on any error.
 *
 * @kubernetes/client-node stays in node_modules: slim-client.ts redirects two of its imports with a
 * resolve hook, which needs its real files. The rest of dist/ (tsc's per-module output) stays too,
 * for the dev tools (dist/docs/write.js, dist/validators/write.js) and tests that import modules.
 */
import { rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';

/** Packages loaded from node_modules at run time rather than bundled. */
export const EXTERNAL = ['@kubernetes/client-node'];

/** Gives bundled CommonJS code `require`, `__filename` and `__dirname` (of the chunk) in ESM. */
const BANNER = [
  "import { createRequire as __gpuaCreateRequire } from 'node:module';",
  "import { fileURLToPath as __gpuaFileURLToPath } from 'node:url';",
  "import { dirname as __gpuaDirname } from 'node:path';",
  'const require = __gpuaCreateRequire(import.meta.url);',
  'const __filename = __gpuaFileURLToPath(import.meta.url);',
  'const __dirname = __gpuaDirname(__filename);',
].join('\n');

export async function bundle(root: string, outdir: string): Promise<Metafile> {
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'src/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: EXTERNAL,
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: BANNER },
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
  const root = process.cwd();
  const outdir = resolve(root, values.outdir);
  const started = Date.now();
  const meta = await bundle(root, outdir);
  const js = Object.entries(meta.outputs).filter(([f]) => f.endsWith('.js'));
  const kib = (n: number): string => `${Math.round(n / 1024)} KiB`;
  const main = js.find(([f]) => f.endsWith('/main.js') || f === 'main.js');
  console.log(`bundle: ${relative(root, join(outdir, 'main.js'))} (${kib(main?.[1].bytes ?? 0)}) + ${js.length - 1} chunks (${kib(js.reduce((s, [, o]) => s + o.bytes, 0))} in all) in ${Date.now() - started} ms`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    // esbuild has printed its errors already
    console.error(`bundle: failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    process.exit(1);
  });
}
