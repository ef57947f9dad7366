import module from 'node:module';

/**
 * Loads only the part of @kubernetes/client-node the informers use. client-node's dist/config.js
 * (KubeConfig) imports dist/gen/index.js, every generated API class and model (~40 MiB of RSS),
 * for two names; dist/cache.js (ListWatch) imports dist/serializer.js, all models again, to pass
 * selectors through as strings. A resolve hook sends exactly those two imports to the shims in
 * ./client-shims/; every other import, including client-node's index.js and its generated APIs
 * when a command loads them, resolves as usual.
 *
 * Must run before client-node is first imported (later, config.js is already linked). Falls back
 * to the full client when module.registerHooks is missing (Node.js < 22.15) or when
 * GPU_ADMISSION_FULL_CLIENT=1.
 */
export type ClientMode = 'slim' | 'full';

let mode: ClientMode | undefined;

/** The two redirected imports: `<importing file URL>\0<specifier>` -> shim URL. */
export function slimRedirects(): Map<string, string> {
  const dist = new URL('./', import.meta.resolve('@kubernetes/client-node')).href;
  return new Map([
    [`${dist}config.js\0./gen/index.js`, new URL('./client-shims/gen-index.js', import.meta.url).href],
    [`${dist}cache.js\0./serializer.js`, new URL('./client-shims/serializer.js', import.meta.url).href],
  ]);
}

/** Registers the resolve hook once per process; says which client the process gets. */
export function useSlimClient(): ClientMode {
  if (mode) return mode;
  const register = (module as { registerHooks?: typeof module.registerHooks }).registerHooks;
  if (process.env.GPU_ADMISSION_FULL_CLIENT === '1' || typeof register !== 'function') return (mode = 'full');
  const redirects = slimRedirects();
  register({
    resolve(specifier, context, nextResolve) {
      const url = context.parentURL === undefined ? undefined : redirects.get(`${context.parentURL}\0${specifier}`);
      return url ? { url, format: 'module', shortCircuit: true } : nextResolve(specifier, context);
    },
  });
  return (mode = 'slim');
}
