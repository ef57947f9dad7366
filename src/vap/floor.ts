/**
 * The admission policy floor: ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1, GA in
 * Kubernetes 1.30) generated from the policy files, which the API server evaluates itself, so they
 * hold while the webhook is down (run the validating webhook fail-open with them).
 *
 * One ValidatingAdmissionPolicy per NamespacePolicy that is not exempt (its settings are compiled
 * into the CEL: no parameter objects to keep in step), one validation per invariant, each naming
 * the rule id it mirrors. Bindings select the namespaces the way policy/resolve.ts does: listed
 * names through the immutable `kubernetes.io/metadata.name` label, selectors as written (minus
 * every listed name), the default policy every namespace no other policy names; which selector
 * policy wins where two match (the first by name) is decided in CEL on `namespaceObject`.
 *
 * The floor may allow what the webhook denies (what needs the pool catalogue's reasoning, a
 * cluster view, or templates is left to the webhook); it never denies what the webhook allows:
 * test/vap/floor.test.ts evaluates every expression against the engine on generated Pods.
 *
 * Pure: no I/O.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';
import { EXCLUDED_NAMESPACES } from '../admission/exclusions.js';
import { acceleratorMatcher } from '../engine/build.js';
import { DAEMONSET_CONTROLLERS } from '../engine/analyse.js';
import type { EnforcementMode, Exemption, NamespacePolicy, PolicySet } from '../policy/types.js';
import { DEVICE_PREFIXES } from '../rules/device-hostpath.js';
import { DANGEROUS } from '../rules/privileged-accelerator.js';
import { DEVICE_VARIABLES, KAI_KEYS } from '../rules/visible-devices.js';
import { repelling } from '../scheduling/tolerations.js';
import { DRA_EXTENDED_PREFIX } from '../workload/claims.js';
import { DEVICE_WORD, FRACTION_ANNOTATIONS, NON_ACCELERATOR_RESOURCES, SHARE_WORD } from '../workload/vendors.js';
import { and, globsRegex, escapeRegex, lit, list, or, selectorCel } from './cel.js';

export const FLOOR_PREFIX = 'gpu-admission-floor';
const NAME_LABEL = 'kubernetes.io/metadata.name';
const LABELS = { 'app.kubernetes.io/name': 'gpu-admission', 'app.kubernetes.io/component': 'admission-policy-floor' };

/** One generated validation, with the rule it mirrors. */
export interface FloorValidation {
  rule: string;
  expression: string;
  message: string;
  reason: 'Forbidden';
}

export interface FloorVariable {
  name: string;
  expression: string;
}

export interface ValidatingAdmissionPolicy {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicy';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    failurePolicy: 'Ignore';
    matchConstraints: { resourceRules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[] };
    matchConditions: { name: string; expression: string }[];
    variables: FloorVariable[];
    validations: { expression: string; message: string; reason: 'Forbidden' }[];
  };
}

export interface ValidatingAdmissionPolicyBinding {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    policyName: string;
    validationActions: ('Deny' | 'Warn' | 'Audit')[];
    matchResources: { namespaceSelector: V1LabelSelector };
  };
}

export interface FloorPolicy {
  /** The NamespacePolicy it is generated from. */
  policy: string;
  vap: ValidatingAdmissionPolicy;
  bindings: ValidatingAdmissionPolicyBinding[];
  /** The validations with their rule ids, in the order of vap.spec.validations. */
  validations: FloorValidation[];
}

/** The rules the floor mirrors (a subset of each: see docs/admission-policy-floor.md). */
export const FLOOR_RULES = [
  'accelerator-allowed', 'accelerator-limits', 'accelerator-quantity', 'gpu-squatting',
  'visible-devices', 'privileged-accelerator', 'device-hostpath', 'priority-class',
] as const;

export const VALIDATION_ACTIONS: Record<EnforcementMode, ('Deny' | 'Warn' | 'Audit')[]> = { enforce: ['Deny'], warn: ['Warn'], audit: ['Audit'] };

// ---------------------------------------------------------------------------------------------
// what counts as an accelerator, as CEL on a resource name (workload/accelerators.ts AcceleratorMatcher)

/** The body of a whole-word regex: `re` (anchored ^...$ on one word) as one word of the name part. */
function wordRegex(re: RegExp): string {
  const body = re.source.replace(/^\^/, '').replace(/\$$/, '');
  return `(?i)^[^/]+/(.*[-._])?${body}([-._].*)?$`;
}

export interface AcceleratorCel {
  /** CEL: the resource name `r` counts as an accelerator (as the webhook's matcher from the policy files). */
  classify(r: string): string;
  /** CEL: `r` is one of the accelerator resources the Pod requests (classified once, in variables.acceleratorNames). */
  is(r: string): string;
  /** CEL: `r` may count as an accelerator on a live cluster (a DRA-served extended resource), beyond is(r). */
  maybe(r: string): string;
  /** Names listed exactly that have no `/` (the only ones the matcher counts without a domain). */
  bareNames: string[];
}

const K8S_DOMAIN = '^(kubernetes\\.io|[^/]*\\.kubernetes\\.io|[^/]*\\.k8s\\.io)/';

function acceleratorCel(set: PolicySet, policy: NamespacePolicy): AcceleratorCel {
  const matcher = acceleratorMatcher(set);
  const exact = [...new Set([...matcher.patterns.filter((p) => !p.includes('*')),
    ...policy.accelerators.deviceClasses.map((c) => `${DRA_EXTENDED_PREFIX}${c}`)])].sort();
  const globs = matcher.patterns.filter((p) => p.includes('*'));
  const ignore = globsRegex([...NON_ACCELERATOR_RESOURCES, ...(set.accelerators?.ignore ?? [])]);
  const guess = set.accelerators?.guessByName ?? true;
  const globRe = globsRegex(globs);
  const classify = (r: string): string => {
    const counted = or([
      ...(globRe ? [`${r}.matches(${lit(globRe)})`] : []),
      ...(guess ? [`${r}.matches(${lit(wordRegex(DEVICE_WORD))}) && !${r}.matches(${lit(wordRegex(SHARE_WORD))}) && !${r}.matches(${lit(K8S_DOMAIN)})`] : []),
    ]);
    const unlisted = counted === 'false' ? undefined : and([`${r}.contains('/')`, ...(ignore ? [`!${r}.matches(${lit(ignore)})`] : []), counted]);
    return or([...(exact.length > 0 ? [`${r} in ${list(exact)}`] : []), ...(unlisted ? [unlisted] : [])]);
  };
  // A live cluster may count more: DeviceClasses that serve an extended resource (KEP-5004) or the
  // deviceclass.resource.kubernetes.io/<class> names of classes it knows. Any extended resource
  // outside the Kubernetes domains may therefore be one.
  const maybe = (r: string): string => `${r}.contains('/') && (!${r}.matches(${lit(K8S_DOMAIN)}) || ${r}.startsWith(${lit(DRA_EXTENDED_PREFIX)}))`;
  return { classify, is: (r) => `variables.acceleratorNames.exists(l, ${r} in l)`, maybe, bareNames: exact.filter((n) => !n.includes('/')) };
}

// ---------------------------------------------------------------------------------------------
// CEL fragments on the Pod

const RES = (c: string, field: 'limits' | 'requests'): string => `has(${c}.resources) && has(${c}.resources.${field})`;
/** Some key of the container's limits or requests satisfies `pred` (a CEL expression over `r`). */
const anyResource = (c: string, pred: string): string =>
  `has(${c}.resources) && ((has(${c}.resources.limits) && ${c}.resources.limits.exists(r, ${pred})) || (has(${c}.resources.requests) && ${c}.resources.requests.exists(r, ${pred})))`;
/** Every key of the container's limits and requests satisfies `pred`. */
const allResources = (c: string, pred: (field: 'limits' | 'requests') => string): string =>
  `!has(${c}.resources) || ((!has(${c}.resources.limits) || ${c}.resources.limits.all(r, ${pred('limits')})) && (!has(${c}.resources.requests) || ${c}.resources.requests.all(r, ${pred('requests')})))`;

const MAX_SAFE = '9007199254740991';
/** A positive whole number (as util/quantity.ts isPositiveInteger: safe integer, > 0). */
const posInt = (q: string): string => `isQuantity(string(${q})) && quantity(string(${q})).isInteger() && quantity(string(${q})).asInteger() > 0 && quantity(string(${q})).asInteger() <= ${MAX_SAFE}`;
const posIntValue = (q: string): string => `(${posInt(q)} ? quantity(string(${q})).asInteger() : 0)`;
/** What the container counts of resource `r` (accelerators.ts amountOf: the limit, else the request; invalid counts 0). */
const amount = (c: string, r: string): string =>
  `(${RES(c, 'limits')} && ${r} in ${c}.resources.limits ? ${posIntValue(`${c}.resources.limits[${r}]`)} : (${RES(c, 'requests')} && ${r} in ${c}.resources.requests ? ${posIntValue(`${c}.resources.requests[${r}]`)} : 0))`;
const SIDECAR = (c: string): string => `has(${c}.restartPolicy) && ${c}.restartPolicy == 'Always'`;
const INIT = "(has(object.spec.initContainers) ? object.spec.initContainers : [])";

interface Ctx {
  set: PolicySet;
  policy: NamespacePolicy;
  acc: AcceleratorCel;
}

function exemptionCel(e: Exemption): string {
  return and([
    ...(e.ownerKinds !== undefined ? [`variables.controllerKind in ${list(e.ownerKinds)}`] : []),
    ...(e.serviceAccounts !== undefined ? [`(has(object.spec.serviceAccountName) ? object.spec.serviceAccountName : 'default') in ${list(e.serviceAccounts)}`] : []),
    ...(e.users !== undefined ? [`request.userInfo.username in ${list(e.users)}`] : []),
    ...(e.groups !== undefined ? [`has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${list(e.groups)})`] : []),
  ]);
}

/** CEL that is true when the policy's exemptions lift `rule` for this request (engine/exemptions.ts); 'true' when always. */
function liftedCel(policy: NamespacePolicy, rule: string): string {
  return or(policy.exemptions.filter((e) => e.rules.includes('*') || e.rules.includes(rule)).map(exemptionCel));
}

interface Invariant {
  rule: string;
  /** True when the Pod passes. */
  expression: string;
  message: string;
}

function invariants(ctx: Ctx): Invariant[] {
  const { policy, set, acc } = ctx;
  const p = policy.name;
  const out: Invariant[] = [];
  const acceleratorsAllowed = policy.accelerators.allowed;

  // accelerator-allowed: resources and KAI fraction annotations (claims need the cluster view).
  if (!acceleratorsAllowed) {
    out.push({ rule: 'accelerator-allowed', expression: '!variables.acceleratorPod',
      message: `[accelerator-allowed] NamespacePolicy ${p} allows no accelerators, but the Pod requests one (an accelerator resource or a GPU-sharing annotation). Fix: remove the accelerator request, or run the workload in a namespace whose policy allows accelerators.` });
  } else if (policy.accelerators.resources.length > 0) {
    const allowedRe = globsRegex(policy.accelerators.resources) as string;
    const allowed = (r: string): string => `${r}.matches(${lit(allowedRe)})`;
    const fractionOk = FRACTION_ANNOTATIONS.every((f) => new RegExp(allowedRe).test(f.resource));
    out.push({ rule: 'accelerator-allowed',
      expression: and([`variables.containers.all(c, ${allResources('c', () => `!(${acc.is('r')}) || ${allowed('r')}`)})`, ...(fractionOk ? [] : ['!variables.fraction'])]),
      message: `[accelerator-allowed] a container requests an accelerator resource NamespacePolicy ${p} does not allow. Fix: request one of: ${policy.accelerators.resources.join(', ')}.` });
  }

  // accelerator-limits: every accelerator resource has a limit, a positive whole number, equal to its request.
  const limitsOk = (field: 'limits' | 'requests'): string => field === 'requests'
    ? `!(${acc.is('r')}) || (has(c.resources.limits) && r in c.resources.limits)`
    : `!(${acc.is('r')}) || ((${posInt('c.resources.limits[r]')}) && (!has(c.resources.requests) || !(r in c.resources.requests) || (isQuantity(string(c.resources.requests[r])) && quantity(string(c.resources.requests[r])).compareTo(quantity(string(c.resources.limits[r]))) == 0)))`;
  out.push({ rule: 'accelerator-limits', expression: `variables.containers.all(c, ${allResources('c', limitsOk)})`,
    message: '[accelerator-limits] an accelerator resource needs a limit that is a positive whole number, equal to its request where both are set (extended resources are allocated by their limit and cannot be overcommitted). Fix: set resources.limits to a whole number of at least 1 and make the request equal to it (or drop the request).' });

  // accelerator-quantity: the namespace's per-Pod maximum. A lower bound of the scheduler's count
  // (app containers + sidecars, and each init container alone): the init peak with earlier
  // sidecars is the webhook's.
  const max = policy.accelerators.maxPerPod;
  if (acceleratorsAllowed && max !== undefined) {
    const within = (r: string): string => and([
      `object.spec.containers.map(x, ${amount('x', r)}).sum() + ${INIT}.filter(x, ${SIDECAR('x')}).map(x, ${amount('x', r)}).sum() <= ${max}`,
      `${INIT}.all(x, ${SIDECAR('x')} || ${amount('x', r)} <= ${max})`,
    ]);
    out.push({ rule: 'accelerator-quantity', expression: `variables.acceleratorNames.all(l, l.all(r, ${within('r')}))`,
      message: `[accelerator-quantity] the Pod requests more of an accelerator resource in total than the ${max} per Pod NamespacePolicy ${p} allows. Fix: request at most ${max} per Pod, or split the work across Pods.` });
  }

  // gpu-squatting: a Pod that requests no accelerator tolerates a GPU pool's taint. Not judged
  // where the webhook may judge otherwise: spec.nodeName (a live node decides), resource claims
  // (their device class decides), extended resources a live cluster may count, named node agents.
  const taints = [...new Map(set.pools.flatMap((pool) => repelling(pool.taints)).map((t) => [`${t.key}\u0000${t.value ?? ''}\u0000${t.effect}`, t])).values()]
    .sort((a, b) => `${a.key}\u0000${a.value ?? ''}\u0000${a.effect}`.localeCompare(`${b.key}\u0000${b.value ?? ''}\u0000${b.effect}`));
  if (taints.length > 0) {
    const op = "(has(t.operator) && t.operator != '' ? t.operator : 'Equal')";
    const tolerates = taints.map((taint) => and([
      `!has(t.effect) || t.effect == '' || t.effect == ${lit(taint.effect)}`,
      `(!has(t.key) || t.key == '') ? ${op} == 'Exists' : (t.key == ${lit(taint.key)} && (${op} == 'Exists' || (${op} == 'Equal' && (has(t.value) ? t.value : '') == ${lit(taint.value ?? '')})))`,
    ]));
    const agents = policy.nodeAgents.length > 0
      ? [`!(variables.controllerKind == 'DaemonSet' && request.userInfo.username in ${list([...DAEMONSET_CONTROLLERS].sort())} && variables.controllerName in ${list(policy.nodeAgents)})`]
      : [];
    const judged = and([
      '!variables.mayBeAcceleratorPod',
      '!has(object.spec.resourceClaims) || size(object.spec.resourceClaims) == 0',
      "!has(object.spec.nodeName) || object.spec.nodeName == ''",
      ...agents,
    ]);
    out.push({ rule: 'gpu-squatting', expression: `!(${judged}) || !has(object.spec.tolerations) || !object.spec.tolerations.exists(t, ${or(tolerates)})`,
      message: `[gpu-squatting] the Pod requests no accelerator but tolerates the taint of a GPU pool; it would occupy a GPU node. Fix: if the workload needs an accelerator, add its resources.limits; otherwise remove the toleration (node agents belong in an exempt namespace, or are named in spec.nodeAgents of NamespacePolicy ${p}).` });
  }

  // visible-devices: no device-choosing variable with a value that exposes devices, nor from valueFrom.
  if (policy.deviceIsolation.visibleDevices) {
    const names = DEVICE_VARIABLES.map((v) => v.name);
    const harmless = DEVICE_VARIABLES.map((v) => `e.name == ${lit(v.name)} && (has(e.value) ? e.value : '') in ${list(v.harmless)}`);
    const kai = `e.name == 'NVIDIA_VISIBLE_DEVICES' && variables.fraction && has(e.valueFrom) && has(e.valueFrom.configMapKeyRef) && has(e.valueFrom.configMapKeyRef.key) && e.valueFrom.configMapKeyRef.key in ${list([...KAI_KEYS].sort())}`;
    out.push({ rule: 'visible-devices',
      expression: `variables.containers.all(c, !has(c.env) || c.env.all(e, !(e.name in ${list(names)}) || (${kai}) || (!has(e.valueFrom) && (${or(harmless)}))))`,
      message: `[visible-devices] a container sets ${names.join(' / ')} (or takes it from valueFrom): the container runtime would give it the devices the variable names, past the device plugin. Fix: remove it (or set NVIDIA_VISIBLE_DEVICES to "void" / "none") and request the devices as resources.limits.` });
  }

  // privileged-accelerator and device-hostpath: judged only for Pods that request an accelerator
  // (where the webhook also weighs the GPU pools a Pod may land on, the floor does not).
  if (policy.deviceIsolation.privileged) {
    const caps = [...DANGEROUS].sort().flatMap((c) => [c, `CAP_${c}`]);
    out.push({ rule: 'privileged-accelerator',
      expression: `!variables.acceleratorPod || variables.containers.all(c, !has(c.securityContext) || ((!has(c.securityContext.privileged) || !c.securityContext.privileged) && (!has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || !c.securityContext.capabilities.add.exists(x, x.trim().upperAscii() in ${list(caps)}))))`,
      message: '[privileged-accelerator] a container of a Pod that requests an accelerator is privileged or adds capability SYS_ADMIN / ALL: it can reach every device of the node, every GPU included. Fix: remove securityContext.privileged and the capability, request the accelerators as resources.limits; node agents belong in a namespace of an exempt NamespacePolicy.' });
  }
  if (policy.deviceIsolation.hostPaths) {
    // Paths written without `.` / `..` segments or doubled slashes (whose normal form the webhook computes).
    const device = `^/(dev(/(${DEVICE_PREFIXES.map(escapeRegex).join('|')})[^/]*(/[^/]+)*)?)?/?$`;
    out.push({ rule: 'device-hostpath',
      expression: `!variables.acceleratorPod || !has(object.spec.volumes) || !object.spec.volumes.exists(v, has(v.hostPath) && v.hostPath.path.matches(${lit(device)}) && !v.hostPath.path.contains('//') && !v.hostPath.path.matches('(^|/)\\\\.\\\\.?(/|$)'))`,
      message: '[device-hostpath] a Pod that requests an accelerator mounts hostPath /, /dev or an accelerator device (/dev/nvidia*, /dev/dri, /dev/kfd, /dev/accel*, /dev/neuron*, /dev/vfio, ...): it reaches GPUs past the device plugin. Fix: remove the hostPath volume and request the accelerators as resources.limits; node agents belong in a namespace of an exempt NamespacePolicy.' });
  }

  // priority-class: system-* classes (whether another class is the cluster's globalDefault,
  // which the Priority admission plugin writes into Pods that name none, only the webhook knows).
  out.push({ rule: 'priority-class', expression: "!has(object.spec.priorityClassName) || !object.spec.priorityClassName.startsWith('system-')",
    message: `[priority-class] PriorityClasses system-* are reserved for cluster components and may not be used in the namespaces of NamespacePolicy ${p}. Fix: remove priorityClassName or use a class the policy allows; node agents belong in a namespace of an exempt NamespacePolicy.` });
  return out;
}

/** Policies whose selector wins over `policy`'s in a namespace both match (policy/resolve.ts: by name). */
function earlierSelectors(set: PolicySet, policy: NamespacePolicy): V1LabelSelector[] {
  const bySelector = set.policies.filter((p) => p.namespaces.selector).sort((a, b) => a.name.localeCompare(b.name));
  // The default governs where no other selector matches (with a selector of its own, conservatively so).
  const before = policy.isDefault ? bySelector : bySelector.slice(0, bySelector.indexOf(policy));
  return before.filter((p) => p !== policy).map((p) => p.namespaces.selector as V1LabelSelector);
}

function mayMatterCel(ctx: Ctx, rules: Set<string>): string {
  const names = [...new Set(ctx.set.pools.flatMap((p) => repelling(p.taints)).map((t) => t.key))].sort();
  const resource = ctx.acc.bareNames.length > 0 ? `r.contains('/') || r in ${list(ctx.acc.bareNames)}` : "r.contains('/')";
  const containers = `object.spec.containers + ${INIT}`;
  const parts = [
    `(${containers}).exists(c, ${anyResource('c', resource)})`,
    `has(object.metadata.annotations) && (${FRACTION_ANNOTATIONS.map((f) => `${lit(f.key)} in object.metadata.annotations`).join(' || ')})`,
  ];
  if (rules.has('gpu-squatting')) parts.push(`has(object.spec.tolerations) && object.spec.tolerations.exists(t, !has(t.key) || t.key == '' || t.key in ${list(names)})`);
  if (rules.has('visible-devices')) parts.push(`(${containers}).exists(c, has(c.env) && c.env.exists(e, e.name in ${list(DEVICE_VARIABLES.map((v) => v.name))}))`);
  if (rules.has('priority-class')) parts.push("has(object.spec.priorityClassName) && object.spec.priorityClassName.startsWith('system-')");
  return or(parts);
}

const dnsName = (s: string): string => s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');

function bindingsFor(set: PolicySet, policy: NamespacePolicy, name: string): ValidatingAdmissionPolicyBinding[] {
  const excluded = new Set(EXCLUDED_NAMESPACES);
  const allNames = [...new Set([...set.policies.flatMap((p) => p.namespaces.names), ...EXCLUDED_NAMESPACES])].sort();
  const binding = (suffix: string, selector: V1LabelSelector): ValidatingAdmissionPolicyBinding => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: `${name}${suffix}`, labels: { ...LABELS } },
    spec: { policyName: name, validationActions: VALIDATION_ACTIONS[policy.mode], matchResources: { namespaceSelector: selector } },
  });
  const out: ValidatingAdmissionPolicyBinding[] = [];
  const named = [...new Set(policy.namespaces.names)].filter((n) => !excluded.has(n)).sort();
  if (named.length > 0) out.push(binding('-names', { matchExpressions: [{ key: NAME_LABEL, operator: 'In', values: named }] }));
  const sel = policy.namespaces.selector;
  if (policy.isDefault) {
    out.push(binding('-default', { matchExpressions: [{ key: NAME_LABEL, operator: 'NotIn', values: allNames }] }));
  } else if (sel) {
    out.push(binding('-selector', {
      ...(sel.matchLabels ? { matchLabels: { ...sel.matchLabels } } : {}),
      matchExpressions: [...(sel.matchExpressions ?? []).map((e) => ({ ...e, ...(e.values ? { values: [...e.values] } : {}) })), { key: NAME_LABEL, operator: 'NotIn', values: allNames }],
    }));
  }
  return out;
}

/** The floor for one NamespacePolicy; undefined for exempt policies and policies that govern nothing. */
export function floorPolicy(set: PolicySet, policy: NamespacePolicy): FloorPolicy | undefined {
  if (policy.exempt) return undefined;
  const name = `${FLOOR_PREFIX}-${dnsName(policy.name)}`;
  const bindings = bindingsFor(set, policy, name);
  if (bindings.length === 0) return undefined;
  const ctx: Ctx = { set, policy, acc: acceleratorCel(set, policy) };
  const validations: FloorValidation[] = [];
  const earlier = earlierSelectors(set, policy);
  const governed = earlier.length > 0
    ? `request.namespace in ${list([...new Set(policy.namespaces.names)].sort())} || !(${or(earlier.map((s) => selectorCel(s, 'variables.namespaceLabels')))})`
    : undefined;
  for (const inv of invariants(ctx)) {
    const lifted = liftedCel(policy, inv.rule);
    if (lifted === 'true') continue;
    const guards = [...(governed ? ['!variables.governed'] : []), ...(lifted !== 'false' ? [`(${lifted})`] : [])];
    validations.push({ rule: inv.rule, expression: guards.length > 0 ? `${guards.join(' || ')} || (${inv.expression})` : inv.expression, message: inv.message, reason: 'Forbidden' });
  }
  if (validations.length === 0) return undefined;
  const used = new Set(validations.map((v) => v.rule));
  const ownerOf = "has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller)";
  const first = "object.metadata.ownerReferences.filter(r, has(r.controller) && r.controller)[0]";
  const variables: FloorVariable[] = [
    { name: 'containers', expression: `object.spec.containers + ${INIT}` },
    { name: 'fraction', expression: `has(object.metadata.annotations) && (${FRACTION_ANNOTATIONS.map((f) => `${lit(f.key)} in object.metadata.annotations`).join(' || ')})` },
    // Per container, the accelerator resources it names (limits, then requests): classified once.
    { name: 'acceleratorNames', expression: `variables.containers.map(c, (${RES('c', 'limits')} ? c.resources.limits.filter(r, ${ctx.acc.classify('r')}) : []) + (${RES('c', 'requests')} ? c.resources.requests.filter(r, ${ctx.acc.classify('r')}) : []))` },
    { name: 'acceleratorPod', expression: 'variables.fraction || variables.acceleratorNames.exists(l, size(l) > 0)' },
    { name: 'mayBeAcceleratorPod', expression: `variables.acceleratorPod || variables.containers.exists(c, ${anyResource('c', ctx.acc.maybe('r'))})` },
    { name: 'controllerKind', expression: `${ownerOf} ? ${first}.kind : ''` },
    { name: 'controllerName', expression: `${ownerOf} ? ${first}.name : ''` },
    ...(governed ? [
      { name: 'namespaceLabels', expression: 'has(namespaceObject.metadata.labels) ? namespaceObject.metadata.labels : {}' },
      { name: 'governed', expression: governed },
    ] : []),
  ];
  const referenced = (v: string): boolean => [...validations.map((x) => x.expression), ...variables.map((x) => x.expression)].some((e) => e.includes(`variables.${v}`));
  const vap: ValidatingAdmissionPolicy = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name,
      labels: { ...LABELS },
      annotations: { 'gpu-admission.io/namespace-policy': policy.name, 'gpu-admission.io/rules': [...used].join(',') },
    },
    spec: {
      // A CEL error (or an exhausted cost budget: the API server aborts the evaluation and the
      // failurePolicy decides, kubernetes/kubernetes#115747) must never deny what the webhook would allow.
      failurePolicy: 'Ignore',
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
      matchConditions: [{ name: 'may-matter', expression: mayMatterCel(ctx, used) }],
      variables: variables.filter((v) => referenced(v.name)),
      validations: validations.map(({ expression, message, reason }) => ({ expression, message, reason })),
    },
  };
  return { policy: policy.name, vap, bindings, validations };
}

/** The whole floor, in a stable order (policies by name). */
export function admissionPolicyFloor(set: PolicySet): FloorPolicy[] {
  return [...set.policies].sort((a, b) => a.name.localeCompare(b.name)).map((p) => floorPolicy(set, p)).filter((f): f is FloorPolicy => f !== undefined);
}

/** Every object of the floor: each policy followed by its bindings. */
export function floorObjects(set: PolicySet): (ValidatingAdmissionPolicy | ValidatingAdmissionPolicyBinding)[] {
  return admissionPolicyFloor(set).flatMap((f) => [f.vap, ...f.bindings]);
}
