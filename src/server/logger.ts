import { pino, type Logger } from 'pino';

/**
 * Review lines never carry objects, but anything that ever does is redacted: container env
 * values, args and commands, and annotation values are the user's data.
 */
export const REDACT_PATHS = [
  '*.env', '*.args', '*.command', '*.annotations', '*.object', '*.oldObject',
  '*.*.env', '*.*.args', '*.*.command', '*.*.annotations',
];

export function createLogger(level = process.env['LOG_LEVEL'] ?? 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { app: 'gpu-admission' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination as never) : pino(opts);
}
