import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { Logger } from 'pino';
import secureJson from 'secure-json-parse';
import { answerRepeat, repeatRequest, repeatText, reviewKey, ReviewMemo, type MemoEntry, type ReviewKey } from '../admission/memo.js';
import { buildResponse } from '../admission/respond.js';
import { BadReview, decodeReview, toEngineRequest, type AdmissionRequest } from '../admission/review.js';
import type { Engine, Verdict } from '../engine/engine.js';
import type { Metrics } from './metrics.js';

export const BODY_LIMIT = 3 * 1024 * 1024;

export interface AppDeps {
  logger: Logger;
  engine(): Engine | undefined;
  /** Readiness and the details /readyz shows. */
  readiness(): { ready: boolean; details: Record<string, unknown> };
  /** Runs before a review is judged: e.g. a bounded fresh read of a namespace the cache has not seen. */
  beforeReview?(namespace: string): Promise<void> | undefined;
  /** Prometheus metrics; /metrics is served when present. */
  metrics?: Metrics;
  /** HTTPS options when the app serves TLS itself (fastify needs them at construction). */
  https?: HttpsOptions;
  /** Bounds on slow or many clients; unbounded when absent (in-process tests). */
  limits?: Limits;
  /** Answers the review memo keeps per endpoint (admission/memo.ts); 0 or absent: off. */
  memoEntries?: number;
  /** Moves whenever the cluster view changes (the memo is emptied); constant without one. */
  stateVersion?(): number;
}

/** A review the memo has an answer for: the body is not parsed. */
class Repeat {
  constructor(readonly text: string, readonly key: ReviewKey, readonly entry: MemoEntry) {}
}

export interface Limits {
  /** Deadline for a whole request, headers and body (ms): answered 408 and closed when it passes. */
  requestTimeoutMs: number;
  /** Bytes of request bodies held across all connections; a request that would go over is answered 503 unread. */
  maxInflightBytes: number;
  /** Open connections on the listener; more are dropped at accept. */
  maxConnections: number;
}

type Endpoint = 'mutate' | 'validate';

function decisionOf(v: Verdict, endpoint: Endpoint): string {
  if (v.denials.length > 0) return 'denied';
  if (endpoint === 'mutate' && v.patch.length > 0) return 'patched';
  return v.skipped ? 'skipped' : 'allowed';
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { limits } = deps;
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    keepAliveTimeout: 75_000,
    // Node's own deadline (server.requestTimeout): the whole request, body included, must arrive in time.
    ...(limits ? { requestTimeout: limits.requestTimeoutMs } : {}),
    ...(deps.https ? { https: { ...deps.https, ...serverTimeouts(limits) } } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;
  if (limits) app.server.maxConnections = limits.maxConnections;
  const memoEntries = deps.memoEntries ?? 0;
  const memos = memoEntries > 0 ? { mutate: new ReviewMemo(memoEntries), validate: new ReviewMemo(memoEntries) } : undefined;
  const stateVersion = deps.stateVersion ?? ((): number => 0);
  // The key of a body the memo did not have rides on its request (not a WeakMap on the parsed body:
  // ephemerons keep short-lived bodies alive into the old generation): offered the answer once judged.
  app.decorateRequest('reviewKey', undefined);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      const text = body as string;
      const url = request.routeOptions.url;
      const memo = memos && (url === '/mutate' ? memos.mutate : url === '/validate' ? memos.validate : undefined);
      const key = memo?.shouldKey() ? reviewKey(text) : undefined;
      if (memo && key) {
        memo.sync(deps.engine(), stateVersion());
        const entry = memo.get(key);
        if (entry) return done(null, new Repeat(text, key, entry));
      }
      if (key) (request as unknown as { reviewKey?: ReviewKey }).reviewKey = key;
      done(null, parseJson(text));
    } catch (err) {
      done(Object.assign(new Error(`Body is not valid JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });

  // Bytes of request bodies held across connections. A request reserves its Content-Length (a body
  // without one, chunked, reserves the body limit) before anything of the body is read, and gives it
  // back when its response is over or its connection goes away.
  let inflight = 0;
  if (limits) {
    // A callback hook, not an async one: no promise per request.
    app.addHook('onRequest', (request, reply, done) => {
      const length = Number(request.headers['content-length'] ?? 0);
      const reserve = Number.isFinite(length) && length > 0 ? Math.min(length, BODY_LIMIT) : request.headers['transfer-encoding'] ? BODY_LIMIT : 0;
      if (reserve === 0) return done();
      if (inflight + reserve > limits.maxInflightBytes) {
        deps.metrics?.error(503);
        reply.code(503).header('connection', 'close').header('retry-after', '1').send({
          error: 'ServiceUnavailable', message: `too many request bytes in flight (limit ${limits.maxInflightBytes}); retry`,
        });
        return;
      }
      inflight += reserve;
      reply.raw.once('close', () => (inflight -= reserve));
      done();
    });
  }

  const handle = (endpoint: Endpoint) => {
    const memo = memos?.[endpoint];
    // `read`: the namespace read a repeat already started (it is judged afresh once that is done).
    const judge = async (body: unknown, key: ReviewKey | undefined, started: number, read?: Promise<void>): Promise<unknown> => {
      const review = decodeReview(body);
      const engine = deps.engine();
      if (!engine) throw new Error('policies are not loaded');
      const req = toEngineRequest(review);
      const pending = read ?? (deps.beforeReview && req.namespace ? deps.beforeReview(req.namespace) : undefined);
      const waited = pending !== undefined;
      if (pending) await pending;
      const version = stateVersion();
      const verdict = endpoint === 'mutate' ? engine.mutate(req) : engine.validate(req);
      const out = buildResponse(review.apiVersion, review.request, verdict, endpoint === 'mutate');
      const decision = decisionOf(verdict, endpoint);
      if (memo) {
        // Kept only when nothing was read for this review and the memo still serves this engine and view.
        const offered = key === undefined || waited ? 'refused' : memo.offer(key, { apiVersion: review.apiVersion, namespace: req.namespace, request: review.request, verdict, decision, response: out }, engine, version);
        deps.metrics?.memoResult(endpoint, offered === 'refused' ? 'skipped' : 'miss');
      }
      deps.metrics?.review(endpoint, review.request.operation, decision, verdict, performance.now() - started);
      logReview(endpoint, () => review.request, req.namespace, verdict, decision, started);
      return out;
    };
    return async (body: unknown, key: ReviewKey | undefined, reply: FastifyReply): Promise<unknown> => {
      const started = performance.now();
      if (!(body instanceof Repeat)) return judge(body, key, started);
      const { entry } = body;
      // A namespace the cache does not know yet is read first, as for any review: judged afresh.
      const read = deps.beforeReview && entry.namespace ? deps.beforeReview(entry.namespace) : undefined;
      if (read) return judge(parseJson(body.text), undefined, started, read);
      // The kept answer's text with this uid (and name): no object to build or serialise.
      const text = repeatText(entry, body.key);
      const answer = text === undefined ? answerRepeat(entry, body.key).response : text;
      if (text !== undefined) reply.type('application/json; charset=utf-8');
      deps.metrics?.memoResult(endpoint, 'hit');
      deps.metrics?.review(endpoint, entry.request.operation, entry.decision, entry.verdict, performance.now() - started);
      logReview(endpoint, () => repeatRequest(entry, body.key), entry.namespace, entry.verdict, entry.decision, started);
      return answer;
    };
  };

  // Reviews that deny, warn, patch or record findings are logged at info; plain allows and skips
  // (the bulk) at debug: the metrics count them. The line is built only when it is logged.
  const logReview = (endpoint: Endpoint, requestOf: () => AdmissionRequest, namespace: string, verdict: Verdict, decision: string, started: number): void => {
    const notable = decision === 'denied' || decision === 'patched' || verdict.warnings.length > 0 || verdict.recorded.length > 0;
    const level = notable ? 'info' : 'debug';
    if (!deps.logger.isLevelEnabled(level)) return;
    const r = requestOf();
    deps.logger[level]({
      event: 'review', endpoint, uid: r.uid, namespace, kind: r.kind.kind, name: r.name,
      operation: r.operation, dryRun: r.dryRun === true, policy: verdict.policy?.name, decision,
      rules: [...new Set([...verdict.denials, ...verdict.warnings, ...verdict.recorded].map((f) => f.ruleId))],
      mutations: [...new Set(verdict.notes.map((n) => n.mutator))],
      skipped: verdict.skipped, assumptions: verdict.assumptions.length > 0 ? verdict.assumptions : undefined, durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    }, 'review');
  };

  const mutate = handle('mutate');
  const validate = handle('validate');
  const keyOf = (request: unknown): ReviewKey | undefined => (request as { reviewKey?: ReviewKey }).reviewKey;
  app.post('/mutate', (request, reply) => mutate(request.body, keyOf(request), reply));
  app.post('/validate', (request, reply) => validate(request.body, keyOf(request), reply));
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

/**
 * JSON.parse, refusing `__proto__` and `constructor.prototype` keys as fastify's own parser does
 * (secure-json-parse). That parser scans every body with two regular expressions; a key of either
 * name needs `__proto__` or `constructor` written plainly, or a `\u` escape, in the text, so bodies
 * without them (nearly all: `protocol: TCP` is not one of them) skip the scan.
 */
export function parseJson(raw: string): unknown {
  if (raw.length === 0) throw new SyntaxError('the body is empty');
  // A UTF-8 byte order mark is dropped, as fastify's own parser does.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) return secureJson.parse(text);
  return JSON.parse(text);
}

/**
 * node:http/node:tls timeouts that fastify does not set: the headers deadline and the TLS handshake
 * get the request deadline too, and the deadlines are checked often enough to hold (Node checks them
 * every connectionsCheckingInterval, 30 s by default; https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener).
 */
function serverTimeouts(limits: Limits | undefined): HttpsOptions {
  if (!limits) return {};
  const ms = limits.requestTimeoutMs;
  return { headersTimeout: ms, requestTimeout: ms, handshakeTimeout: ms, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(ms / 4))) } as HttpsOptions;
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
