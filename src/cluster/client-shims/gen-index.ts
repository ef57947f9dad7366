// Stands in for client-node's dist/gen/index.js when imported by its dist/config.js (see
// ../slim-client.ts): the two names config.js takes from it, without the generated APIs and models.
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
