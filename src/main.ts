#!/usr/bin/env node
// The Node.js version is checked before anything else is loaded: on an older Node.js the
// dependencies fail with errors that do not say why.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`gpu-admission needs Node.js 22 or later; this is ${process.version}\n`);
  process.exit(2);
}

const { run } = await import('./cli/index.js');
process.exitCode = await run(process.argv.slice(2));
