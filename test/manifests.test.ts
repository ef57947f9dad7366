// The install layout: manifests/ rendered with `kubectl kustomize` (required in CI, skipped visibly
// elsewhere without kubectl), the generated policies ConfigMap, and the Dockerfile's runtime entrypoint.
import { FRACTION_ANNOTATIONS } from '../src/workload/vendors.js';
import type {
  V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1Container, V1Deployment, V1LabelSelector,
  V1MutatingWebhook, V1PodDisruptionBudget, V1RuleWithOperations, V1Secret, V1Service, V1ValidatingWebhook,
} from '@kubernetes/client-node';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseCel } from '@marcbachmann/cel-js';
import { FLOOR_DIR, readPolicyFiles, renderFloorFiles, renderPoliciesConfigMap, yamlString } from '../manifests/generate-policies-configmap.mjs';
import { parseYamlDocuments } from '../src/util/yaml.js';
import { kindKey, WORKLOAD_KINDS } from '../src/workload/kinds.js';

const OPERATIONS = new Map(WORKLOAD_KINDS.map((k) => [kindKey(k), [...k.operations].sort()]));
import { supportedKinds } from '../src/workload/pod-spec.js';
import { describeWithTool, itWithTool, probeTool } from './support/tools.js';
import { EXCLUDED_NAMESPACES } from '../src/admission/exclusions.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MANIFESTS = join(ROOT, 'manifests');
const MAIN = join(ROOT, 'dist', 'main.js');

// ---------------------------------------------------------------------------------------------
// what the webhooks must cover

/** Resource plural and scope of every kind, from the one kind table of src/workload/kinds.ts. */
const PLURALS: Record<string, string> = Object.fromEntries(WORKLOAD_KINDS.map((k) => [kindKey(k), k.plural]));
const CLUSTER_SCOPED = new Set(WORKLOAD_KINDS.filter((k) => k.scope === 'Cluster').map(kindKey));
/** Built-in groups are pinned to v1; CRD groups match every served version. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'batch']);
const CLUSTER_ROLE_GRANTS = [
  '/namespaces', '/nodes', 'scheduling.k8s.io/priorityclasses',
  'resource.k8s.io/resourceclaimtemplates', 'resource.k8s.io/resourceclaims', 'resource.k8s.io/deviceclasses',
].flatMap((r) => ['get', 'list', 'watch'].map((v) => `${r}:${v}`)).sort();

const resourceOf = (kind: string): string => {
  const plural = PLURALS[kind];
  if (!plural) throw new Error(`supportedKinds() has ${kind}: add its resource plural to PLURALS here and a rule to manifests/base/webhooks.yaml`);
  const group = kind.slice(0, kind.indexOf('/'));
  return `${group}/${plural}`;
};

// ---------------------------------------------------------------------------------------------
// rendering

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}
type Webhook = V1MutatingWebhook & V1ValidatingWebhook;
interface WebhookConfiguration extends K8sObject {
  webhooks: Webhook[];
}

/** `kubectl kustomize` renders the layout (kustomize v5 or later: the layout uses components). */
const KUBECTL = probeTool('kubectl', ['version', '--client'], (out) => out.split('\n').find((l) => l.startsWith('Kustomize')) ?? out.trim());
const GIT = probeTool('git', ['--version']);

const rendered = new Map<string, K8sObject[]>();
function render(dir: string): K8sObject[] {
  let objects = rendered.get(dir);
  if (!objects) {
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
    objects = parseYamlDocuments(r.stdout).map((d) => d.value as K8sObject);
    rendered.set(dir, objects);
  }
  return objects;
}

function one<T>(objects: K8sObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `exactly one ${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
  return found[0] as unknown as T;
}

const mutating = (objects: K8sObject[]): Webhook => {
  const c = one<WebhookConfiguration>(objects, 'MutatingWebhookConfiguration', 'gpu-admission');
  expect(c.webhooks.map((w) => w.name)).toEqual(['mutate.gpu-admission.io']);
  return c.webhooks[0] as Webhook;
};
const validating = (objects: K8sObject[]): Webhook => {
  const c = one<WebhookConfiguration>(objects, 'ValidatingWebhookConfiguration', 'gpu-admission');
  expect(c.webhooks.map((w) => w.name)).toEqual(['validate.gpu-admission.io', 'namespace-labels.gpu-admission.io']);
  return c.webhooks[0] as Webhook;
};
/** The namespace-labels guard: its own entry of the validating configuration. */
const namespaceLabels = (objects: K8sObject[]): Webhook =>
  one<WebhookConfiguration>(objects, 'ValidatingWebhookConfiguration', 'gpu-admission').webhooks[1] as Webhook;

interface Coverage {
  operations: string[];
  scope: string | undefined;
  apiVersions: string[];
}

/** `group/resource` -> what the rules say about it; a resource named by two rules is an error. */
function coverage(rules: V1RuleWithOperations[]): Map<string, Coverage> {
  const out = new Map<string, Coverage>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        expect(out.has(key), `${key} is named by two rules`).toBe(false);
        out.set(key, { operations: [...(rule.operations ?? [])].sort(), scope: rule.scope, apiVersions: rule.apiVersions ?? [] });
      }
    }
  }
  return out;
}

function selects(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector?.matchLabels ?? {});
  return entries.length > 0 && (selector?.matchExpressions ?? []).length === 0 && entries.every(([k, v]) => labels?.[k] === v);
}

const containerOf = (d: V1Deployment): V1Container => {
  const containers = d.spec?.template.spec?.containers ?? [];
  expect(containers).toHaveLength(1);
  return containers[0] as V1Container;
};

const argValue = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

const policyDirFiles = (): Record<string, string> => Object.fromEntries(
  readdirSync(join(ROOT, 'policies'))
    .filter((n) => /\.(ya?ml|json)$/.test(n) && n !== 'schema.json' && !n.startsWith('.'))
    .sort()
    .map((n) => [n, readFileSync(join(ROOT, 'policies', n), 'utf8')]),
);

const tmp = mkdtempSync(join(tmpdir(), 'gpa-manifests-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of manifests/ in a temporary tree (kustomize paths are relative, so the layout is kept). */
function copyManifests(name: string): string {
  const dir = join(tmp, name, 'manifests');
  mkdirSync(dir, { recursive: true });
  for (const sub of ['base', 'components', 'overlays']) cpSync(join(MANIFESTS, sub), join(dir, sub), { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------------------------

describe('the policies ConfigMap generator', () => {
  it('the committed manifests/base/policies-configmap.yaml is what the generator makes from policies/ now', () => {
    const committed = readFileSync(join(MANIFESTS, 'base', 'policies-configmap.yaml'), 'utf8');
    expect(committed, 'manifests/base/policies-configmap.yaml is out of date with policies/: run `npm run manifests`')
      .toBe(renderPoliciesConfigMap(readPolicyFiles()));
  });

  it('carries every policy file of policies/ byte for byte, and nothing else', () => {
    const [doc] = parseYamlDocuments(readFileSync(join(MANIFESTS, 'base', 'policies-configmap.yaml'), 'utf8'));
    const cm = doc?.value as V1ConfigMap;
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.metadata?.name).toBe('gpu-admission-policies');
    expect(cm.data).toEqual(policyDirFiles());
    expect(Object.keys(cm.data ?? {})).not.toContain('schema.json');
  });

  const awkward = [
    'plain', 'one newline\n', 'two newlines\n\n', 'three\n\n\n', ' leading space\nnext\n', '\n\nleading empty lines\n',
    '   \n  whitespace-only first line\n', '\tleading tab\n', 'tab\n\tinside\n', 'crlf\r\nline\r\n', 'control \u0001 char\n',
    '\ufeffbyte order mark\n', 'a: |\n  nested block\n---\nsecond: document\n', 'trailing spaces  \n  \n', 'ümlaut ✓ 🎉\n',
    '# only a comment\n', '"quoted"\n', "key: 'single'\n", '...\n', '{"json": [1, 2]}\n', '',
  ];

  it('writes any file content so that YAML parsers read it back unchanged', () => {
    const files = awkward.map((content, i) => ({ name: `f${String(i).padStart(2, '0')}.yaml`, content }));
    const [doc] = parseYamlDocuments(renderPoliciesConfigMap(files));
    expect((doc?.value as V1ConfigMap).data).toEqual(Object.fromEntries(files.map((f) => [f.name, f.content])));
  });

  it('uses literal block scalars for ordinary files', () => {
    expect(yamlString('a: 1\nb: 2\n', 2)).toBe('|\n    a: 1\n    b: 2');
    expect(yamlString('no newline', 2)).toBe('|-\n    no newline');
    expect(yamlString('kept\n\n', 2)).toBe('|+\n    kept\n');
    expect(yamlString(' indented\n', 2)).toBe('|2\n     indented');
  });

  it('refuses what a ConfigMap or kustomize cannot carry', () => {
    expect(() => renderPoliciesConfigMap([{ name: 'a b.yaml', content: 'x\n' }])).toThrow(/not a valid ConfigMap key/);
    expect(() => renderPoliciesConfigMap([{ name: 'sep.yaml', content: 'a\u2028b\n' }])).toThrow(/sep.yaml: .*separator/);
    expect(() => renderPoliciesConfigMap([{ name: 'big.yaml', content: 'x'.repeat(1024 * 1024) }])).toThrow(/1 MiB/);
  });

  it('the committed components/admission-policy-floor/ is what the generator makes from policies/ now', async () => {
    const files = await renderFloorFiles();
    expect(files, 'dist/ is built by the test setup').toBeDefined();
    expect(Object.keys(files ?? {}).sort()).toEqual(readdirSync(FLOOR_DIR).sort());
    for (const [name, text] of Object.entries(files ?? {})) {
      expect(readFileSync(join(FLOOR_DIR, name), 'utf8'), `components/admission-policy-floor/${name} is out of date with policies/: run \`npm run manifests\``).toBe(text);
    }
  });

  it('--check exits 0 while the ConfigMap is current', () => {
    const r = spawnSync(process.execPath, [join(MANIFESTS, 'generate-policies-configmap.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the builtin-certs overlay', () => {
  it('its README says how to make the files `gpu-admission certs --kustomize` writes', () => {
    expect(readFileSync(join(MANIFESTS, 'overlays', 'builtin-certs', 'README.md'), 'utf8')).toContain('certs --out certs/ --kustomize manifests/overlays/builtin-certs');
  });

  itWithTool(GIT, 'gitignores the files `gpu-admission certs --kustomize` writes (a private key among them)', () => {
    const r = spawnSync('git', ['check-ignore', 'manifests/overlays/builtin-certs/secret.yaml', 'manifests/overlays/builtin-certs/cabundle-patch.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describeWithTool(KUBECTL, 'kustomize layout', () => {
  const base = (): K8sObject[] => render(MANIFESTS);

  it('manifests/ is the base', () => {
    expect(render(MANIFESTS)).toEqual(render(join(MANIFESTS, 'base')));
  });

  it('puts every namespaced object into the gpu-admission namespace', () => {
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    for (const o of base()) {
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('gpu-admission');
    }
    one<K8sObject>(base(), 'Namespace', 'gpu-admission');
  });

  describe('webhook configurations', () => {
    const expected = (mutatingPods: boolean): Map<string, Coverage> => new Map(supportedKinds().map((kind) => {
      const group = kind.slice(0, kind.indexOf('/'));
      return [resourceOf(kind), {
        operations: kind === '/Pod' && mutatingPods ? ['CREATE'] : OPERATIONS.get(kind) ?? [],
        scope: CLUSTER_SCOPED.has(kind) ? 'Cluster' : 'Namespaced',
        apiVersions: BUILT_IN_GROUPS.has(group) ? ['v1'] : ['*'],
      }];
    }));

    it('every kind with Pod specs has a resource plural here', () => {
      expect(Object.keys(PLURALS).sort()).toEqual([...supportedKinds()].sort());
    });

    it('mutating: Pods on CREATE, every template kind on CREATE and UPDATE, exactly the supported kinds', () => {
      expect(coverage(mutating(base()).rules ?? [])).toEqual(expected(true));
    });

    it('validating: Pods and every template kind on CREATE and UPDATE, exactly the supported kinds', () => {
      expect(coverage(validating(base()).rules ?? [])).toEqual(expected(false));
    });

    it('namespace-labels: Namespaces on CREATE and UPDATE at /validate, failing open, the same exclusions', () => {
      const w = namespaceLabels(base());
      expect(coverage(w.rules ?? [])).toEqual(new Map([['/namespaces', { operations: ['CREATE', 'UPDATE'], scope: 'Cluster', apiVersions: ['v1'] }]]));
      expect(w.clientConfig).toEqual(validating(base()).clientConfig);
      expect(w.failurePolicy).toBe('Ignore');
      expect(w.namespaceSelector).toEqual(validating(base()).namespaceSelector);
      expect(w.matchConditions).toBeUndefined();
    });

    it.each([['mutating', mutating], ['validating', validating], ['namespace-labels', namespaceLabels]] as const)('%s: no side effects, v1 and v1beta1 reviews, a short timeout, system namespaces excluded', (_, pick) => {
      const w = pick(base());
      expect(w.sideEffects).toBe('None');
      expect(w.admissionReviewVersions).toEqual(['v1', 'v1beta1']);
      expect(w.timeoutSeconds).toBeGreaterThan(0);
      expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
      expect(w.objectSelector).toBeUndefined();
      const exprs = w.namespaceSelector?.matchExpressions ?? [];
      const byName = exprs.find((e) => e.key === 'kubernetes.io/metadata.name');
      expect(byName?.operator).toBe('NotIn');
      // Exactly the namespaces the audit reports as excluded (src/admission/exclusions.ts).
      expect(byName?.values).toEqual([...EXCLUDED_NAMESPACES]);
      expect(w.namespaceSelector?.matchLabels).toBeUndefined();
      // The webhook's own namespace is excluded (no chicken-and-egg with its own Pods).
      expect(byName?.values).toContain(one<V1Deployment>(base(), 'Deployment', 'gpu-admission').metadata?.namespace);
    });

    it('mutating fails open and is reinvoked; validating fails closed in the base', () => {
      expect(mutating(base()).failurePolicy).toBe('Ignore');
      expect(mutating(base()).reinvocationPolicy).toBe('IfNeeded');
      expect(validating(base()).failurePolicy).toBe('Fail');
    });

    it('call the Service on port 443 at /mutate and /validate, which reaches the container port', () => {
      const objects = base();
      const svc = one<V1Service>(objects, 'Service', 'gpu-admission');
      const container = containerOf(one<V1Deployment>(objects, 'Deployment', 'gpu-admission'));
      for (const [w, path] of [[mutating(objects), '/mutate'], [validating(objects), '/validate']] as const) {
        expect(w.clientConfig.service).toEqual({ name: svc.metadata?.name, namespace: svc.metadata?.namespace, path, port: 443 });
        expect(w.clientConfig.url).toBeUndefined();
        // No caBundle in the base: cert-manager or the certs command fill it, and an empty one
        // in the manifests would be written back over theirs on every apply.
        expect(w.clientConfig.caBundle).toBeUndefined();
      }
      const port = svc.spec?.ports?.find((p) => p.port === 443);
      expect(port).toBeDefined();
      const target = container.ports?.find((p) => p.name === port?.targetPort || p.containerPort === port?.targetPort);
      expect(target, `Service port 443 targets ${String(port?.targetPort)}, a port of the container`).toBeDefined();
      expect(target?.containerPort).toBe(Number(argValue(container.args ?? [], '--port')));
    });
  });

  describe('Deployment, PodDisruptionBudget, Service', () => {
    const deployment = (): V1Deployment => one<V1Deployment>(base(), 'Deployment', 'gpu-admission');

    it('runs 3 replicas spread over nodes and zones, system-cluster-critical', () => {
      const d = deployment();
      const pod = d.spec?.template.spec;
      expect(d.spec?.replicas).toBe(3);
      expect(pod?.priorityClassName).toBe('system-cluster-critical');
      expect(pod?.terminationGracePeriodSeconds).toBe(30);
      const spread = Object.fromEntries((pod?.topologySpreadConstraints ?? []).map((c) => [c.topologyKey, c]));
      expect(spread['kubernetes.io/hostname']?.whenUnsatisfiable).toBe('DoNotSchedule');
      expect(spread['topology.kubernetes.io/zone']?.whenUnsatisfiable).toBe('ScheduleAnyway');
      for (const c of Object.values(spread)) expect(selects(c.labelSelector, d.spec?.template.metadata?.labels)).toBe(true);
      const anti = pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      expect(anti.some((t) => t.podAffinityTerm.topologyKey === 'kubernetes.io/hostname' && selects(t.podAffinityTerm.labelSelector, d.spec?.template.metadata?.labels))).toBe(true);
      expect(selects(d.spec?.selector, d.spec?.template.metadata?.labels)).toBe(true);
    });

    it('runs as non-root with a read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const pod = deployment().spec?.template.spec;
      expect(pod?.securityContext?.runAsNonRoot).toBe(true);
      expect(pod?.securityContext?.runAsUser).toBe(65532);
      expect(pod?.securityContext?.runAsGroup).toBe(65532);
      expect(pod?.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
        const sc = c.securityContext;
        expect(sc?.runAsNonRoot, c.name).toBe(true);
        expect(sc?.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc?.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc?.privileged ?? false, c.name).toBe(false);
        expect(sc?.capabilities?.drop, c.name).toEqual(['ALL']);
        expect(sc?.capabilities?.add ?? [], c.name).toEqual([]);
        expect(sc?.seccompProfile?.type, c.name).toBe('RuntimeDefault');
      }
    });

    it('probes /readyz and /healthz over HTTPS on the serving port, with requests and a memory limit', () => {
      const c = containerOf(deployment());
      expect(c.image).toBe(`ghcr.io/gpu-admission/gpu-admission:${packageVersion()}`);
      expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
      expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
      expect(c.ports).toEqual([expect.objectContaining({ name: 'https', containerPort: 8443 })]);
      expect(c.resources?.requests).toEqual({ cpu: '100m', memory: '128Mi' });
      expect(c.resources?.limits).toEqual({ memory: '256Mi' });
    });

    it('mounts the policies ConfigMap as a directory (hot reload) and the TLS Secret read-only, where the args point', () => {
      const d = deployment();
      const c = containerOf(d);
      const args = c.args ?? [];
      const volumes = Object.fromEntries((d.spec?.template.spec?.volumes ?? []).map((v) => [v.name, v]));
      const mountOf = (volume: string) => c.volumeMounts?.find((m) => m.name === volume);

      const policies = Object.values(volumes).find((v) => v.configMap?.name === 'gpu-admission-policies');
      expect(policies).toBeDefined();
      const pm = mountOf(policies?.name ?? '');
      expect(pm?.mountPath).toBe('/etc/gpu-admission/policies');
      expect(pm?.subPath).toBeUndefined();
      expect(pm?.readOnly).toBe(true);
      expect(argValue(args, '--policies')).toBe(pm?.mountPath);

      const tls = Object.values(volumes).find((v) => v.secret?.secretName === 'gpu-admission-tls');
      expect(tls).toBeDefined();
      const tm = mountOf(tls?.name ?? '');
      expect(tm?.mountPath).toBe('/tls');
      expect(tm?.subPath).toBeUndefined();
      expect(tm?.readOnly).toBe(true);
      expect(argValue(args, '--cert')).toBe('/tls/tls.crt');
      expect(argValue(args, '--key')).toBe('/tls/tls.key');
      expect(Object.keys(volumes).sort()).toEqual([policies?.name, tls?.name].sort());

      // The rendered ConfigMap is the policies directory.
      const cm = one<V1ConfigMap>(base(), 'ConfigMap', 'gpu-admission-policies');
      expect(cm.data).toEqual(policyDirFiles());
    });

    it('keeps 2 of 3 replicas through voluntary disruptions', () => {
      const d = deployment();
      const pdb = one<V1PodDisruptionBudget>(base(), 'PodDisruptionBudget', 'gpu-admission');
      expect(pdb.spec?.minAvailable === 2 || pdb.spec?.maxUnavailable === 1).toBe(true);
      expect(selects(pdb.spec?.selector, d.spec?.template.metadata?.labels)).toBe(true);
      const svc = one<V1Service>(base(), 'Service', 'gpu-admission');
      const svcSelector = svc.spec?.selector ?? {};
      expect(Object.keys(svcSelector).length).toBeGreaterThan(0);
      expect(Object.entries(svcSelector).every(([k, v]) => d.spec?.template.metadata?.labels?.[k] === v)).toBe(true);
    });
  });

  describe('RBAC', () => {
    it('the ClusterRole grants get/list/watch on the cluster view and nothing else', () => {
      const role = one<V1ClusterRole>(base(), 'ClusterRole', 'gpu-admission');
      const grants = (role.rules ?? []).flatMap((r) => {
        expect(r.resourceNames ?? [], 'no resourceNames').toEqual([]);
        expect(r.nonResourceURLs ?? [], 'no non-resource URLs').toEqual([]);
        return (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)));
      });
      expect(grants.sort()).toEqual(CLUSTER_ROLE_GRANTS);
      expect(role.aggregationRule).toBeUndefined();
      expect(base().filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);
    });

    it('binds it to the Deployment\'s service account only', () => {
      const objects = base();
      const d = one<V1Deployment>(objects, 'Deployment', 'gpu-admission');
      const sa = one<K8sObject>(objects, 'ServiceAccount', d.spec?.template.spec?.serviceAccountName);
      const binding = one<V1ClusterRoleBinding>(objects, 'ClusterRoleBinding', 'gpu-admission');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gpu-admission' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    });
  });

  describe('overlays', () => {
    const overlay = (name: string): K8sObject[] => render(join(MANIFESTS, 'overlays', name));
    const ids = (objects: K8sObject[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();

    it.each([['fail-open', 'Ignore'], ['fail-closed', 'Fail']])('%s: validating failurePolicy %s, the rest as in the base', (name, policy) => {
      const objects = overlay(name);
      expect(validating(objects).failurePolicy).toBe(policy);
      expect({ ...validating(objects), failurePolicy: undefined }).toEqual({ ...validating(base()), failurePolicy: undefined });
      expect(namespaceLabels(objects)).toEqual(namespaceLabels(base()));
      expect(mutating(objects)).toEqual(mutating(base()));
      expect(ids(objects)).toEqual(ids(base()));
    });

    it('fail-open-with-floor: the fail-open overlay plus the admission policy floor, cluster-scoped, excluded namespaces never bound', () => {
      const objects = overlay('fail-open-with-floor');
      const floorKinds = new Set(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
      const rest = objects.filter((o) => !floorKinds.has(o.kind));
      expect(ids(rest)).toEqual(ids(overlay('fail-open')));
      expect(validating(objects).failurePolicy).toBe('Ignore');
      const floor = objects.filter((o) => floorKinds.has(o.kind));
      const file = parseYamlDocuments(readFileSync(join(FLOOR_DIR, 'admission-policy-floor.yaml'), 'utf8')).map((d) => d.value as K8sObject);
      const byId = (a: K8sObject, b: K8sObject): number => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
      expect([...floor].sort(byId)).toEqual([...file].sort(byId));
      const policies = floor.filter((o) => o.kind === 'ValidatingAdmissionPolicy');
      expect(policies.length).toBeGreaterThan(0);
      const names = new Set(policies.map((p) => p.metadata.name));
      for (const o of floor) {
        expect(o.apiVersion).toBe('admissionregistration.k8s.io/v1');
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBeUndefined();
      }
      for (const p of policies) {
        const spec = p['spec'] as { failurePolicy: string; matchConstraints: { resourceRules: V1RuleWithOperations[] }; matchConditions: unknown[] };
        expect(spec.failurePolicy).toBe('Ignore');
        expect(spec.matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }]);
        expect(spec.matchConditions.length).toBeGreaterThan(0);
      }
      for (const b of floor.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')) {
        const spec = b['spec'] as { policyName: string; validationActions: string[]; matchResources: { namespaceSelector: V1LabelSelector } };
        expect(names.has(spec.policyName), spec.policyName).toBe(true);
        expect([['Deny'], ['Warn'], ['Audit']]).toContainEqual(spec.validationActions);
        const byName = (spec.matchResources.namespaceSelector.matchExpressions ?? []).filter((e) => e.key === 'kubernetes.io/metadata.name');
        expect(byName, b.metadata.name).toHaveLength(1);
        const e = byName[0];
        if (e?.operator === 'NotIn') expect(e.values).toEqual(expect.arrayContaining([...EXCLUDED_NAMESPACES]));
        else expect(e?.values?.filter((v) => EXCLUDED_NAMESPACES.includes(v))).toEqual([]);
      }
    });

    it('match-conditions: one CEL condition on both webhooks, nothing else changed', () => {
      const objects = overlay('match-conditions');
      const m = mutating(objects);
      const v = validating(objects);
      for (const w of [m, v]) {
        expect(w.matchConditions).toHaveLength(1);
        const c = w.matchConditions?.[0];
        expect(c?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        const expr = c?.expression ?? '';
        // A light syntax check (the API server compiles it): balanced brackets.
        for (const [open, close] of [['(', ')'], ['[', ']']] as const) expect(expr.split(open).length, `${open}${close} balanced`).toBe(expr.split(close).length);
        expect(expr).toContain("request.resource.resource != 'pods'");
        // The expression evaluated on admitted Pods below, as the component file spells it.
        const file = parseYamlDocuments(readFileSync(join(MANIFESTS, 'components', 'match-conditions', 'match-conditions.yaml'), 'utf8'))[0]?.value as { value: { expression: string }[] }[];
        expect(expr).toBe(file[0]?.value[0]?.expression);
        for (const key of ['nvidia.com/', 'amd.com/', 'google.com/tpu', 'habana.ai/', 'cloud.google.com/gke-accelerator', 'cloud.google.com/gke-tpu']) {
          expect(expr).toContain(`'${key}'`);
        }
        for (const field of ['resources.limits', 'resources.requests', 'resources.claims', 'resourceClaims', 'tolerations', 'nodeSelector', 'nodeAffinity', 'priorityClassName', ...FRACTION_ANNOTATIONS.map((f) => `'${f.key}'`)]) {
          expect(expr).toContain(field);
        }
      }
      expect(m.matchConditions).toEqual(v.matchConditions);
      expect({ ...m, matchConditions: undefined }).toEqual(mutating(base()));
      expect({ ...v, matchConditions: undefined }).toEqual(validating(base()));
    });

    it('cert-manager: a CA chain issues the serving certificate for the Service, injected into both webhooks', () => {
      const objects = overlay('cert-manager');
      const svc = one<V1Service>(objects, 'Service', 'gpu-admission');
      const ns = svc.metadata?.namespace ?? '';
      interface Certificate extends K8sObject { spec: { secretName: string; dnsNames?: string[]; isCA?: boolean; issuerRef: { name: string; kind: string; group?: string } } }
      interface Issuer extends K8sObject { spec: { selfSigned?: object; ca?: { secretName: string } } }
      const serving = one<Certificate>(objects, 'Certificate', 'gpu-admission-serving');
      expect(serving.metadata.namespace).toBe(ns);
      const svcName = svc.metadata?.name ?? '';
      expect(serving.spec.dnsNames).toEqual(expect.arrayContaining([svcName, `${svcName}.${ns}`, `${svcName}.${ns}.svc`, `${svcName}.${ns}.svc.cluster.local`]));
      const tlsVolume = one<V1Deployment>(objects, 'Deployment', 'gpu-admission').spec?.template.spec?.volumes?.find((v) => v.secret);
      expect(serving.spec.secretName).toBe(tlsVolume?.secret?.secretName);

      const caIssuer = one<Issuer>(objects, 'Issuer', serving.spec.issuerRef.name);
      expect(serving.spec.issuerRef.kind).toBe('Issuer');
      const ca = objects.find((o): o is Certificate => o.kind === 'Certificate' && (o as Certificate).spec.secretName === caIssuer.spec.ca?.secretName);
      expect(ca?.spec.isCA).toBe(true);
      expect(one<Issuer>(objects, 'Issuer', ca?.spec.issuerRef.name).spec.selfSigned).toEqual({});

      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        const c = one<WebhookConfiguration>(objects, kind, 'gpu-admission');
        expect(c.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${ns}/gpu-admission-serving`);
        expect(c.webhooks[0]?.clientConfig.service?.name).toBe(svcName);
      }
      expect(ids(objects.filter((o) => o.apiVersion !== 'cert-manager.io/v1'))).toEqual(ids(base()));
    });

    it('builtin-certs: the Secret and caBundle patch written by `gpu-admission certs --kustomize`', () => {
      const copy = copyManifests('builtin');
      const overlayDir = join(copy, 'overlays', 'builtin-certs');
      for (const f of ['secret.yaml', 'cabundle-patch.yaml']) rmSync(join(overlayDir, f), { force: true });
      execFileSync(process.execPath, [MAIN, 'certs', '--out', join(tmp, 'builtin', 'certs'), '--kustomize', overlayDir], { cwd: ROOT, stdio: 'pipe' });
      const objects = render(overlayDir);
      const caBundle = Buffer.from(readFileSync(join(tmp, 'builtin', 'certs', 'ca.crt'))).toString('base64');
      expect(mutating(objects).clientConfig.caBundle).toBe(caBundle);
      expect(validating(objects).clientConfig.caBundle).toBe(caBundle);
      expect({ ...mutating(objects), clientConfig: { ...mutating(objects).clientConfig, caBundle: undefined } }).toEqual(mutating(base()));
      const secret = one<V1Secret>(objects, 'Secret', 'gpu-admission-tls');
      expect(secret.type).toBe('kubernetes.io/tls');
      expect(secret.metadata?.namespace).toBe('gpu-admission');
      expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
      expect(ids(objects.filter((o) => o.kind !== 'Secret'))).toEqual(ids(base()));
    });

    it('components compose: cert-manager + match-conditions + fail-open in one kustomization', () => {
      const copy = copyManifests('composed');
      const dir = join(copy, 'mine');
      mkdirSync(dir);
      writeFileSync(join(dir, 'kustomization.yaml'), [
        'apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources: [../base]',
        'components: [../components/cert-manager, ../components/match-conditions, ../components/fail-open]', '',
      ].join('\n'));
      const objects = render(dir);
      expect(validating(objects).failurePolicy).toBe('Ignore');
      expect(validating(objects).matchConditions).toEqual(validating(overlay('match-conditions')).matchConditions);
      expect(mutating(objects).matchConditions).toHaveLength(1);
      one<K8sObject>(objects, 'Certificate', 'gpu-admission-serving');
      expect(one<WebhookConfiguration>(objects, 'ValidatingWebhookConfiguration').metadata.annotations?.['cert-manager.io/inject-ca-from']).toBeDefined();
    });

    it('network-policy: the review port from the API server only, the health port from monitoring only', () => {
      interface Peer { ipBlock?: { cidr: string; except?: string[] }; namespaceSelector?: V1LabelSelector; podSelector?: V1LabelSelector }
      interface Rule { ports?: { port: number | string; protocol?: string }[]; from?: Peer[] }
      interface NetworkPolicy extends K8sObject { spec: { podSelector: V1LabelSelector; policyTypes: string[]; ingress: Rule[]; egress?: Rule[] } }
      const objects = overlay('network-policy');
      const d = one<V1Deployment>(objects, 'Deployment', 'gpu-admission');
      const np = one<NetworkPolicy>(objects, 'NetworkPolicy', 'gpu-admission');
      expect(np.metadata.namespace).toBe(d.metadata?.namespace);
      expect(selects(np.spec.podSelector, d.spec?.template.metadata?.labels)).toBe(true);
      expect(np.spec.policyTypes).toEqual(['Ingress']);
      expect(np.spec.egress).toBeUndefined();
      // Every rule names its port and its sources: a rule without `from` admits everyone.
      for (const r of np.spec.ingress) {
        expect(r.ports?.length, 'ports').toBe(1);
        expect(r.from?.length, 'from').toBeGreaterThan(0);
        for (const peer of r.from ?? []) expect(peer.ipBlock?.cidr === '0.0.0.0/0' || peer.ipBlock?.cidr === '::/0', 'no catch-all ipBlock').toBe(false);
      }
      const c = containerOf(d);
      const portOf = (name: string): number | undefined => c.ports?.find((p) => p.name === name)?.containerPort;
      const rule = (port: number | undefined): Rule | undefined => np.spec.ingress.find((r) => r.ports?.[0]?.port === port);
      expect(portOf('https')).toBe(8443);
      expect(Number(argValue(c.args ?? [], '--port'))).toBe(8443);
      const review = rule(portOf('https'));
      expect(review?.ports?.[0]?.protocol).toBe('TCP');
      expect(review?.from?.some((p) => p.ipBlock && !p.namespaceSelector && !p.podSelector), 'an ipBlock for a control plane outside the cluster').toBe(true);
      expect(review?.from).toContainEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { component: 'kube-apiserver' } },
      });
      // The health port: serve listens on it, and only the monitoring namespace may reach it.
      const healthArg = (c.args ?? []).find((a) => a.startsWith('--health-port='));
      expect(healthArg).toBe(`--health-port=${portOf('health')}`);
      expect(rule(portOf('health'))?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
      expect(np.spec.ingress).toHaveLength(2);
      const r = spawnSync(process.execPath, [MAIN, ...(c.args ?? []), '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr, 'serve accepts the args').toBe('');
      expect(r.status).toBe(0);
      // Nothing else changes: the Deployment gains the flag and the port, the rest is the base.
      expect(ids(objects.filter((o) => o.kind !== 'NetworkPolicy'))).toEqual(ids(base()));
      const baseContainer = containerOf(one<V1Deployment>(base(), 'Deployment', 'gpu-admission'));
      expect({ ...c, args: c.args?.filter((a) => a !== healthArg), ports: c.ports?.filter((p) => p.name !== 'health') }).toEqual(baseContainer);
      expect(validating(objects)).toEqual(validating(base()));
    });

    it('network-policy composes with match-conditions and cert-manager', () => {
      const copy = copyManifests('composed-np');
      const dir = join(copy, 'mine');
      mkdirSync(dir);
      writeFileSync(join(dir, 'kustomization.yaml'), [
        'apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources: [../base]',
        'components: [../components/cert-manager, ../components/match-conditions, ../components/network-policy]', '',
      ].join('\n'));
      const objects = render(dir);
      expect(one<K8sObject>(objects, 'NetworkPolicy', 'gpu-admission')).toEqual(one<K8sObject>(overlay('network-policy'), 'NetworkPolicy', 'gpu-admission'));
      expect(validating(objects).matchConditions).toHaveLength(1);
      one<K8sObject>(objects, 'Certificate', 'gpu-admission-serving');
    });

    it('the generated ConfigMap survives kustomize unchanged for awkward file contents', () => {
      const dir = join(tmp, 'awkward');
      mkdirSync(dir, { recursive: true });
      const files = ['plain\n', ' lead\n', '\n\nx\n', '\tx\n', 'a\r\nb\n', 'k\n\n\n', 'no newline', 'c\u0001\n', '\ufeffbom\n']
        .map((content, i) => ({ name: `f${i}.yaml`, content }));
      writeFileSync(join(dir, 'cm.yaml'), renderPoliciesConfigMap(files));
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [cm.yaml]\n');
      expect(one<V1ConfigMap>(render(dir), 'ConfigMap').data).toEqual(Object.fromEntries(files.map((f) => [f.name, f.content])));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// the match-conditions CEL, evaluated (with a JS CEL implementation) on Pods as the API server
// hands them to the webhooks: after defaulting, the ServiceAccount, DefaultTolerationSeconds and
// Priority admission plugins. Priority runs before MutatingAdmissionWebhook (kube-apiserver's
// AllOrderedPlugins, pkg/kubeapiserver/options/plugins.go) and writes the globalDefault class and
// its value into every Pod that names no class.

describe('the match-conditions CEL on Pods as the API server hands them over', () => {
  const file = join(MANIFESTS, 'components', 'match-conditions', 'match-conditions.yaml');
  const patch = parseYamlDocuments(readFileSync(file, 'utf8'))[0]?.value as { value: { name: string; expression: string }[] }[];
  const expression = patch[0]?.value[0]?.expression ?? '';
  const program = parseCel(expression);
  const POD = { group: '', version: 'v1', resource: 'pods' };

  /** What the API server has made of `spec` by the time the webhooks see it. */
  function admitted(spec: Record<string, unknown>, opts: { globalDefault?: [string, number]; annotations?: Record<string, string> } = {}): object {
    const containers = (spec['containers'] as Record<string, unknown>[]).map((c) => ({
      imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {},
      ...c,
      volumeMounts: [...((c['volumeMounts'] as object[] | undefined) ?? []), { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
    }));
    const named = typeof spec['priorityClassName'] === 'string';
    const [defaultClass, defaultValue] = opts.globalDefault ?? [undefined, 0];
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'p', namespace: 'team-a', ...(opts.annotations ? { annotations: opts.annotations } : {}) },
      spec: {
        restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30,
        securityContext: {}, enableServiceLinks: true, serviceAccountName: 'default', serviceAccount: 'default',
        preemptionPolicy: 'PreemptLowerPriority',
        ...spec,
        containers,
        volumes: [...((spec['volumes'] as object[] | undefined) ?? []), { name: 'kube-api-access-x7k2p', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
        tolerations: [...((spec['tolerations'] as object[] | undefined) ?? []),
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        ...(named ? { priority: 100000 } : defaultClass ? { priorityClassName: defaultClass, priority: defaultValue } : { priority: 0 }),
      },
    };
  }
  const sent = (object: object, resource = POD): boolean => program({ object, oldObject: null, request: { operation: 'CREATE', resource } }) as boolean;
  const web = { name: 'web', image: 'nginx:1.27', resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi', 'ephemeral-storage': '1Gi', 'hugepages-2Mi': '64Mi' } } };
  const GLOBAL_DEFAULTS: [string, number][] = [['default-priority', 1000], ['standard', 0], ['batch-low', -10]];

  it.each(GLOBAL_DEFAULTS)('an ordinary Pod stays away from the webhook with the globalDefault %s written in', (name, value) => {
    expect(sent(admitted({ containers: [web] }, { globalDefault: [name, value] }))).toBe(false);
    expect(sent(admitted({ containers: [web], initContainers: [{ name: 'init', image: 'busybox' }] }, { globalDefault: [name, value] }))).toBe(false);
  });

  it('an ordinary Pod stays away without a globalDefault (priority 0)', () => {
    expect(sent(admitted({ containers: [web] }))).toBe(false);
  });

  it('a Pod naming a class no policy lists is not sent (the documented trade-off)', () => {
    expect(sent(admitted({ containers: [web], priorityClassName: 'high-priority' }))).toBe(false);
  });

  const policyClasses = [...new Set(Object.values(policyDirFiles()).flatMap((text) => parseYamlDocuments(text).flatMap((d) => {
    const doc = d.value as { kind?: string; spec?: { priority?: { defaultClass?: string; allowedClasses?: string[] } } } | null;
    const p = doc?.kind === 'NamespacePolicy' ? doc.spec?.priority : undefined;
    return [...(p?.defaultClass ? [p.defaultClass] : []), ...(p?.allowedClasses ?? [])];
  })))].sort();

  it('lists exactly the PriorityClasses the shipped policies name', () => {
    expect(policyClasses.length).toBeGreaterThan(0);
    const listed = /object\.spec\.priorityClassName in \[([^\]]*)\]/.exec(expression)?.[1] ?? '';
    expect(listed.split(',').map((s) => s.trim().replace(/^'|'$/g, '')).sort()).toEqual(policyClasses);
  });

  it.each(policyClasses)('a Pod naming %s (a class a policy restricts) is sent, with a globalDefault in the cluster', (name) => {
    expect(sent(admitted({ containers: [web], priorityClassName: name }, { globalDefault: ['default-priority', 1000] }))).toBe(true);
  });

  const gpu = { ...web, resources: { limits: { 'nvidia.com/gpu': '1' } } };
  it.each<[string, Record<string, unknown>, Record<string, string>?]>([
    ['a GPU limit', { containers: [gpu] }],
    ['a GPU limit on an init container', { containers: [web], initContainers: [gpu] }],
    ['a DRA claim', { containers: [web], resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'one-gpu' }] }],
    ['a KAI gpu-fraction annotation', { containers: [web] }, { 'gpu-fraction': '0.5' }],
    ['a system-* class', { containers: [web], priorityClassName: 'system-node-critical' }],
    ['a toleration of every taint', { containers: [web], tolerations: [{ operator: 'Exists' }] }],
    ['a GPU taint toleration', { containers: [web], tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }],
    ['a GPU nodeSelector', { containers: [web], nodeSelector: { 'nvidia.com/gpu.present': 'true' } }],
    ['GPU node affinity', { containers: [web], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'Exists' }] }] } } } }],
    ['NVIDIA_VISIBLE_DEVICES=all without a GPU', { containers: [{ ...web, env: [{ name: 'TZ', value: 'UTC' }, { name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }] }] }],
    ['a privileged container', { containers: [{ ...web, securityContext: { privileged: true } }] }],
    ['SYS_ADMIN', { containers: [web, { ...web, name: 'side', securityContext: { capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'] } } }] }],
    ['cap_sys_admin (any case, CAP_ prefix)', { containers: [{ ...web, securityContext: { capabilities: { add: ['cap_sys_admin'] } } }] }],
    ['capability ALL', { containers: [{ ...web, securityContext: { capabilities: { add: ['ALL'] } } }] }],
    ['AMD_VISIBLE_DEVICES on an init container', { containers: [web], initContainers: [{ name: 'init', image: 'busybox', env: [{ name: 'AMD_VISIBLE_DEVICES', value: '0' }] }] }],
    ['a hostPath of the node root', { containers: [web], volumes: [{ name: 'root', hostPath: { path: '/' } }] }],
    ['a hostPath of /dev', { containers: [web], volumes: [{ name: 'dev', hostPath: { path: '/dev' } }] }],
  ])('a Pod with %s is sent, with a globalDefault in the cluster', (_what, spec, annotations) => {
    expect(sent(admitted(spec, { globalDefault: ['default-priority', 1000], ...(annotations ? { annotations } : {}) }))).toBe(true);
  });

  it('privileged: false, narrow or dropped capabilities and other env vars do not send a Pod', () => {
    const tidy = { ...web, env: [{ name: 'LOG_LEVEL', value: 'info' }], securityContext: { privileged: false, capabilities: { add: ['NET_BIND_SERVICE', 'SYS_ADMINX'], drop: ['ALL'] } } };
    expect(sent(admitted({ containers: [tidy] }, { globalDefault: ['default-priority', 1000] }))).toBe(false);
  });

  it('every other resource is sent (workload templates)', () => {
    expect(sent({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} }, { group: 'apps', version: 'v1', resource: 'deployments' })).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

/** Dockerfile stages with their instructions (continuation lines joined, comments dropped). */
function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      stages[stages.length - 1]?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

describe('the image', () => {
  const stages = dockerfileStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = stages[stages.length - 1] as Stage;
  const get = (s: Stage, op: string): string[] => s.instructions.filter((i) => i.op === op).map((i) => i.args);
  const exec = (s: Stage, op: string): unknown => JSON.parse(get(s, op).at(-1) ?? 'null');
  const deploymentArgs = (): string[] => {
    const docs = parseYamlDocuments(readFileSync(join(MANIFESTS, 'base', 'deployment.yaml'), 'utf8'));
    return containerOf(docs[0]?.value as V1Deployment).args ?? [];
  };

  it('builds on node:22-bookworm, installs production dependencies apart, runs on distroless nodejs22 as 65532', () => {
    expect(stages[0]?.from).toBe('node:22-bookworm');
    const builder = stages.find((s) => s.from === 'node:22-bookworm' && get(s, 'RUN').some((r) => /\bnpm run build\b/.test(r)));
    expect(builder, 'a node:22-bookworm stage runs npm run build').toBeDefined();
    expect(get(builder as Stage, 'RUN').some((r) => /\bnpm ci\b(?!.*--omit=dev)/.test(r))).toBe(true);
    expect(stages.some((s) => get(s, 'RUN').some((r) => /npm (ci|prune) .*--omit=dev/.test(r)))).toBe(true);
    expect(runtime.from).toBe('gcr.io/distroless/nodejs22-debian12:nonroot');
    expect(get(runtime, 'USER')).toEqual(['65532:65532']);
    expect(get(runtime, 'WORKDIR')).toEqual(['/app']);
    expect(get(runtime, 'ENV')).toContain('NODE_ENV=production');
    expect(get(runtime, 'ENV')).toContain('NODE_OPTIONS=--max-semi-space-size=4');
    expect(get(runtime, 'EXPOSE')).toEqual(['8443']);
    expect(exec(runtime, 'ENTRYPOINT')).toEqual(['/nodejs/bin/node', 'dist/main.js']);
    expect(exec(runtime, 'CMD')).toEqual(['serve', '--policies', '/app/policies']);
    const copies = get(runtime, 'COPY').join('\n');
    for (const what of [/--from=\S+ \S*\/dist \.\/dist/, /--from=\S+ \S*\/node_modules \.\/node_modules/, /^package\.json \.\//m, /^policies \.\/policies/m]) {
      expect(copies).toMatch(what);
    }
    // The user the Deployment runs as is the image's.
    const pod = (parseYamlDocuments(readFileSync(join(MANIFESTS, 'base', 'deployment.yaml'), 'utf8'))[0]?.value as V1Deployment).spec?.template.spec;
    expect(`${pod?.securityContext?.runAsUser}:${pod?.securityContext?.runAsGroup}`).toBe(get(runtime, 'USER')[0]);
  });

  it('keeps dependencies, build output, certificates and manifests out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'certs/*', 'test', '.git', 'coverage', '*.log', '.ci']));
  });

  // The image's ENTRYPOINT runs dist/main.js from WORKDIR, as here from the repository root.
  const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_ENV: 'production' } });

  it.each([[['--help']], [['serve', '--help']]])('node dist/main.js %j exits 0 with usage', (args) => {
    const r = cli(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: gpu-admission/);
  });

  it('accepts the image CMD and the Deployment args (unknown flags would exit 2)', () => {
    for (const args of [exec(runtime, 'CMD') as string[], deploymentArgs()]) {
      expect(args[0]).toBe('serve');
      const r = cli([...args, '--help']);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.status, args.join(' ')).toBe(0);
    }
  });
});
