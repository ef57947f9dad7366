/**
 * The generated policy is checked with the webhook's own loader and engine before anything is
 * written: the policy directory as it will be is parsed (schema and cross-document checks), and a
 * well-formed accelerator Pod in the namespace is run through mutation and validation.
 */
import { basename, join } from 'node:path';
import { createRequest, simulate } from '../admission/simulate.js';
import { parsePolicies, PolicyError, type PolicyFile } from '../policy/parse.js';
import { engineFor } from '../engine/build.js';
import type { PolicySet } from '../policy/types.js';
import type { ExistingPolicy, Problem } from './check.js';
import type { OutputFile } from './generate.js';
import type { Plan } from './plan.js';

/** The policy directory once the policy file is in it (replacing a file of the same name). */
export function candidateFiles(existing: PolicyFile[], dir: string, policy: OutputFile, state: ExistingPolicy): PolicyFile[] {
  if (state.state === 'same' && state.source !== basename(policy.path)) return existing;
  const path = join(dir, policy.path);
  return [...existing.filter((f) => f.path !== path), { path, text: policy.text }];
}

function probePod(p: Plan, resource: string): Record<string, unknown> {
  const amounts = { [resource]: '1', cpu: '1', memory: '1Gi' };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'onboarding-probe', namespace: p.namespace },
    spec: { containers: [{ name: 'server', image: 'registry.k8s.io/pause:3.10', resources: { limits: amounts, requests: amounts }, readinessProbe: { tcpSocket: { port: 8080 } } }] },
  };
}

export interface Verification {
  problems: Problem[];
  set?: PolicySet;
}

export function verifyGenerated(files: PolicyFile[], p: Plan): Verification {
  let set: PolicySet;
  try {
    set = parsePolicies(files);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return { problems: e.problems.map((m) => ({ level: 'error', message: `the policy directory would be invalid: ${m}` })) };
  }
  const resource = set.poolsByName.get(p.defaultPool ?? '')?.resources.find((r) => !r.includes('*'));
  if (!resource) return { problems: [], set };
  const result = simulate(engineFor(set), createRequest(probePod(p, resource), p.namespace));
  const problems: Problem[] = [];
  if (result.policy !== p.policyName) {
    problems.push({ level: 'error', message: `a Pod in ${p.namespace} would be governed by ${result.policy ? `NamespacePolicy "${result.policy}"` : 'no policy'}, not "${p.policyName}"` });
  } else if (result.verdict === 'denied') {
    problems.push({
      level: 'error',
      message: `a well-formed Pod with one ${resource} would be denied in ${p.namespace}: ${(result.validated?.denials ?? []).map((v) => `[${v.ruleId}] ${v.message}`).join('; ')}`,
    });
  }
  return { problems, set };
}
