import type { V1Probe } from '@kubernetes/client-node';

export const PROBE_DEFAULTS = { periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 } as const;

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
}

/** Seconds a probe lets a container take to come up: initialDelay + failureThreshold × period. */
export function probeBudget(p: V1Probe): number {
  return num(p.initialDelaySeconds, 0) + num(p.failureThreshold, PROBE_DEFAULTS.failureThreshold) * Math.max(1, num(p.periodSeconds, PROBE_DEFAULTS.periodSeconds));
}

export function probeHandler(p: V1Probe): Pick<V1Probe, 'httpGet' | 'tcpSocket' | 'grpc' | 'exec'> | undefined {
  if (p.httpGet) return { httpGet: p.httpGet };
  if (p.tcpSocket) return { tcpSocket: p.tcpSocket };
  if (p.grpc) return { grpc: p.grpc };
  if (p.exec) return { exec: p.exec };
  return undefined;
}
