import module from 'node:module';

/**
 * Loads only the part of @kubernetes/client-node the informers use. client-node's dist/config.js
 * (KubeConfig) imports dist/gen/index.js, every generated API class and model (~40 MiB of RSS),
 * for two names; dist/cache.js (ListWatch) imports dist/serializer.js, all models again, to pass
 * selectors through as strings. A resolve hook sends exactly those two imports to small shim
 * modules; every other import, including client-node's index.js and its generated APIs when a
 * command loads them, resolves as usual.
 *
 * Must run before client-node is first imported (later, config.js is already linked). Falls back
 * to the full client when module.registerHooks is missing (Node.js < 22.15) or when
 * GPU_ADMISSION_FULL_CLIENT=1.
 */
export type ClientMode = 'slim' | 'full';

let mode: ClientMode | undefined;

/**
 * Stands in for dist/gen/index.js when dist/config.js imports it: the two names config.js takes,
 * from the files that define them. `dist` is client-node's dist/ folder URL.
 */
export function genIndexShim(dist: string): string {
  return [
    `export { createConfiguration } from ${JSON.stringify(new URL('gen/configuration.js', dist).href)};`,
    `export { ServerConfiguration } from ${JSON.stringify(new URL('gen/servers.js', dist).href)};`,
  ].join('\n');
}

/**
 * Stands in for dist/serializer.js when dist/cache.js imports it. cache.js serializes label and
 * field selectors as 'string', which the generated serializer returns unchanged, as it does every
 * primitive type; anything else is refused rather than passed through wrongly.
 */
export const SERIALIZER_SHIM = `
const PRIMITIVES = new Set(['string', 'boolean', 'double', 'integer', 'long', 'float', 'number', 'any']);
export const ObjectSerializer = {
  serialize(data, type) {
    if (data === undefined || data === null || PRIMITIVES.has(String(type).toLowerCase())) return data;
    throw new Error('the slim Kubernetes client serializes primitive types only, not ' + type);
  },
};
`;

/**
 * The two redirected imports: `<importing file URL>\0<specifier>` -> shim module. The shims are
 * data: URLs of their own source, so nothing depends on where this module lies (a chunk of the
 * bundle, or dist/cluster/ of the per-module build).
 */
export function slimRedirects(): Map<string, string> {
  const dist = new URL('./', import.meta.resolve('@kubernetes/client-node')).href;
  const source = (js: string): string => `data:text/javascript,${encodeURIComponent(js)}`;
  return new Map([
    [`${dist}config.js\0./gen/index.js`, source(genIndexShim(dist))],
    [`${dist}cache.js\0./serializer.js`, source(SERIALIZER_SHIM)],
  ]);
}

/** Registers the resolve hook once per process; says which client the process gets. */
export function useSlimClient(): ClientMode {
  if (mode) return mode;
  const register = (module as { registerHooks?: typeof module.registerHooks }).registerHooks;
  if (process.env['GPU_ADMISSION_FULL_CLIENT'] === '1' || typeof register !== 'function') return (mode = 'full');
  const redirects = slimRedirects();
  register({
    resolve(specifier, context, nextResolve) {
      const url = context.parentURL === undefined ? undefined : redirects.get(`${context.parentURL}\0${specifier}`);
      return url ? { url, format: 'module', shortCircuit: true } : nextResolve(specifier, context);
    },
  });
  return (mode = 'slim');
}
