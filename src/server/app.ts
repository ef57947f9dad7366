import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { Logger } from 'pino';
import { buildResponse } from '../admission/respond.js';
import { BadReview, decodeReview, toEngineRequest } from '../admission/review.js';
import type { Engine, Verdict } from '../engine/engine.js';
import type { Metrics } from './metrics.js';

export const BODY_LIMIT = 3 * 1024 * 1024;

export interface AppDeps {
  logger: Logger;
  engine(): Engine | undefined;
  /** Readiness and the details /readyz shows. */
  readiness(): { ready: boolean; details: Record<string, unknown> };
  /** Runs before a review is judged: e.g. a bounded fresh read of a namespace the cache has not seen. */
  beforeReview?(namespace: string): Promise<void>;
  /** Prometheus metrics; /metrics is served when present. */
  metrics?: Metrics;
  /** HTTPS options when the app serves TLS itself (fastify needs them at construction). */
  https?: HttpsOptions;
}

type Endpoint = 'mutate' | 'validate';

function decisionOf(v: Verdict, endpoint: Endpoint): string {
  if (v.denials.length > 0) return 'denied';
  if (endpoint === 'mutate' && v.patch.length > 0) return 'patched';
  return v.skipped ? 'skipped' : 'allowed';
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    keepAliveTimeout: 75_000,
    ...(deps.https ? { https: deps.https } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  const handle = (endpoint: Endpoint) => async (body: unknown): Promise<unknown> => {
    const started = performance.now();
    const review = decodeReview(body);
    const engine = deps.engine();
    if (!engine) throw new Error('policies are not loaded');
    const req = toEngineRequest(review);
    if (deps.beforeReview && req.namespace) await deps.beforeReview(req.namespace);
    const verdict = endpoint === 'mutate' ? engine.mutate(req) : engine.validate(req);
    const out = buildResponse(review.apiVersion, review.request, verdict, endpoint === 'mutate');
    deps.metrics?.review(endpoint, review.request.operation, decisionOf(verdict, endpoint), verdict, performance.now() - started);
    // The review line is built only when it is logged: at --log-level warn this is per-review
    // work (two Sets, spreads) on the hot path for nothing.
    if (!deps.logger.isLevelEnabled('info')) return out;
    const r = review.request;
    deps.logger.info({
      event: 'review', endpoint, uid: r.uid, namespace: req.namespace, kind: r.kind.kind, name: r.name,
      operation: r.operation, dryRun: r.dryRun === true, policy: verdict.policy?.name, decision: decisionOf(verdict, endpoint),
      rules: [...new Set([...verdict.denials, ...verdict.warnings, ...verdict.recorded].map((f) => f.ruleId))],
      mutations: [...new Set(verdict.notes.map((n) => n.mutator))],
      skipped: verdict.skipped, assumptions: verdict.assumptions.length > 0 ? verdict.assumptions : undefined, durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    }, 'review');
    return out;
  };

  const mutate = handle('mutate');
  const validate = handle('validate');
  app.post('/mutate', (request) => mutate(request.body));
  app.post('/validate', (request) => validate(request.body));
  registerHealth(app, deps);
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: 'NotFound', message: `${request.method} ${request.url.split('?')[0]} is not served; use POST /mutate or POST /validate` }));

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const status = err instanceof BadReview ? 400 : err.statusCode ?? 500;
    deps.metrics?.error(status);
    if (err instanceof BadReview) return reply.code(400).send({ error: 'BadRequest', message: err.message });
    if (status < 500) {
      const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `request body is larger than ${BODY_LIMIT} bytes`
        : err.message;
      return reply.code(status).send({ error: status === 413 ? 'PayloadTooLarge' : 'BadRequest', message });
    }
    deps.logger.error({ event: 'review-failed', url: request.url.split('?')[0], err: { message: err.message, stack: err.stack } }, 'unexpected error while handling a review');
    return reply.code(500).send({ error: 'InternalError', message: 'the webhook failed to evaluate the review; the webhook failurePolicy decides' });
  });

  return app;
}

/** /healthz, /readyz and /metrics: on the HTTPS app, and on the optional plaintext health app. */
export function registerHealth(app: FastifyInstance, deps: Pick<AppDeps, 'readiness' | 'metrics'>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, details } = deps.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...details });
  });
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.text()));
  }
}
