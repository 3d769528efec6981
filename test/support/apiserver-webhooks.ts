/**
 * Mutating admission webhooks for the fake API server, called as kube-apiserver calls
 * them (k8s.io/apiserver/pkg/admission/plugin/webhook): a MutatingWebhookConfiguration's
 * rules, namespaceSelector and objectSelector pick the requests; an AdmissionReview v1
 * is POSTed with the configured timeout; a JSONPatch answer is applied; a call that fails
 * (network, timeout, non-200, a malformed or mismatched answer) is handled by
 * failurePolicy: Fail rejects the write, Ignore lets it through unchanged. Plugged into
 * the server's admission chain, without touching the server's own files.
 */
import { randomUUID } from 'node:crypto';
import fjp from 'fast-json-patch';
import { Agent, fetch } from 'undici';
import { deny, type AdmissionPlugin, type AdmissionRequest, type FakeApiServer, type KubeObject } from '../../fake-apiserver/index.ts';
import { selectorMatches } from '../../src/core/k8s/labels.ts';
import type { LabelSelector } from '../../src/core/k8s/types.ts';

export interface RuleWithOperations {
  operations: string[];
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope?: '*' | 'Namespaced' | 'Cluster';
}

export interface MutatingWebhook {
  name: string;
  clientConfig: { url?: string; caBundle?: string; service?: { name: string; namespace: string; path?: string; port?: number } };
  rules?: RuleWithOperations[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  timeoutSeconds?: number;
  failurePolicy?: 'Fail' | 'Ignore';
  admissionReviewVersions: string[];
  sideEffects: string;
}

export interface MutatingWebhookConfiguration {
  apiVersion: string;
  kind: 'MutatingWebhookConfiguration';
  metadata: { name: string };
  webhooks: MutatingWebhook[];
}

export interface WebhookCall {
  webhook: string;
  object: string;
  outcome: 'patched' | 'allowed' | 'denied' | 'failed-open' | 'failed-closed';
  message?: string;
}

/** A webhook's namespaceSelector / objectSelector: absent matches everything (admissionregistration/v1). */
const hookSelects = (sel: LabelSelector | undefined, labels: Record<string, string>): boolean => (sel ? selectorMatches(sel, labels) : true);

function ruleMatches(rules: RuleWithOperations[] | undefined, req: AdmissionRequest): boolean {
  const resource = req.subResource ? `${req.resource.plural}/${req.subResource}` : req.resource.plural;
  const scope = req.resource.namespaced ? 'Namespaced' : 'Cluster';
  return (rules ?? []).some((r) =>
    (r.operations.includes('*') || r.operations.includes(req.operation)) &&
    (r.apiGroups.includes('*') || r.apiGroups.includes(req.resource.group)) &&
    (r.apiVersions.includes('*') || r.apiVersions.includes(req.resource.version)) &&
    r.resources.some((x) => x === resource || x === '*/*' || (x === '*' && !req.subResource) || (x.endsWith('/*') && !!req.subResource && x.slice(0, -2) === req.resource.plural)) &&
    (!r.scope || r.scope === '*' || r.scope === scope));
}

export interface WebhookCallerOptions {
  /** Where a `service` clientConfig points in this test (kube-apiserver would resolve the Service). */
  resolveService?: (service: NonNullable<MutatingWebhook['clientConfig']['service']>) => string;
}

/** Registers the configuration's webhooks on the server's admission chain; returns the calls made, and an unregister function. */
export function registerMutatingWebhooks(server: FakeApiServer, config: MutatingWebhookConfiguration, opts: WebhookCallerOptions = {}): { calls: WebhookCall[]; unregister: () => void } {
  const calls: WebhookCall[] = [];
  const offs = config.webhooks.map((hook) => {
    const url = hook.clientConfig.url ?? (hook.clientConfig.service && opts.resolveService ? opts.resolveService(hook.clientConfig.service) : undefined);
    if (!url) throw new Error(`webhook ${hook.name}: no url and no way to reach its service`);
    const ca = hook.clientConfig.caBundle ? Buffer.from(hook.clientConfig.caBundle, 'base64').toString('utf8') : undefined;
    const dispatcher = new Agent({ connect: { ...(ca ? { ca } : {}), ...(hook.clientConfig.service ? { servername: `${hook.clientConfig.service.name}.${hook.clientConfig.service.namespace}.svc` } : {}) } });
    const plugin: AdmissionPlugin = {
      name: hook.name,
      mutate: async (req) => {
        if (!req.object || !ruleMatches(hook.rules, req)) return undefined;
        const nsLabels = req.resource.namespaced ? ((server.store.get('/namespaces', '', req.namespace)?.metadata.labels ?? {}) as Record<string, string>) : {};
        if (req.resource.namespaced && !hookSelects(hook.namespaceSelector, nsLabels)) return undefined;
        if (!hookSelects(hook.objectSelector, (req.object.metadata.labels ?? {}) as Record<string, string>)) return undefined;
        const object = `${req.namespace}/${req.object.metadata.name ?? req.object.metadata.generateName ?? ''}`;
        const fail = (message: string): KubeObject | undefined => {
          if ((hook.failurePolicy ?? 'Fail') === 'Ignore') {
            calls.push({ webhook: hook.name, object, outcome: 'failed-open', message });
            return undefined;
          }
          calls.push({ webhook: hook.name, object, outcome: 'failed-closed', message });
          throw deny(hook.name, `failed calling webhook "${hook.name}": ${message}`, 500);
        };
        const uid = randomUUID();
        const review = {
          apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
          request: {
            uid,
            kind: { group: req.resource.group, version: req.resource.version, kind: req.resource.kind },
            resource: { group: req.resource.group, version: req.resource.version, resource: req.resource.plural },
            ...(req.subResource ? { subResource: req.subResource } : {}),
            requestKind: { group: req.resource.group, version: req.resource.version, kind: req.resource.kind },
            requestResource: { group: req.resource.group, version: req.resource.version, resource: req.resource.plural },
            name: req.name, namespace: req.namespace, operation: req.operation,
            userInfo: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] },
            object: req.object, oldObject: req.oldObject ?? null, dryRun: req.dryRun,
            options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
          },
        };
        let body: { response?: { uid?: string; allowed?: boolean; patch?: string; patchType?: string; status?: { code?: number; message?: string } } };
        try {
          // kube-apiserver's default timeout is 10 s; the configuration may set 1-30 s.
          const res = await fetch(url, {
            method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(review),
            signal: AbortSignal.timeout((hook.timeoutSeconds ?? 10) * 1000), dispatcher,
          });
          const text = await res.text();
          if (res.status !== 200) return fail(`HTTP ${res.status}: ${text.slice(0, 200)}`);
          body = JSON.parse(text) as typeof body;
        } catch (err) {
          const cause = (err as { cause?: { message?: string } }).cause?.message;
          return fail(err instanceof Error ? `${err.name}: ${err.message}${cause ? ` (${cause})` : ''}` : String(err));
        }
        const r = body.response;
        if (!r || r.uid !== uid) return fail(`expected response.uid "${uid}", got "${r?.uid ?? ''}"`);
        if (!r.allowed) {
          calls.push({ webhook: hook.name, object, outcome: 'denied', ...(r.status?.message ? { message: r.status.message } : {}) });
          throw deny(hook.name, r.status?.message ?? 'denied', r.status?.code ?? 403);
        }
        if (!r.patch) {
          calls.push({ webhook: hook.name, object, outcome: 'allowed' });
          return undefined;
        }
        if (r.patchType !== 'JSONPatch') return fail(`unsupported patchType "${r.patchType ?? ''}"`);
        try {
          const ops = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as fjp.Operation[];
          const out = fjp.applyPatch(structuredClone(req.object), ops, true, false).newDocument;
          calls.push({ webhook: hook.name, object, outcome: 'patched' });
          return out;
        } catch (err) {
          // A patch that does not apply is the webhook's fault: an internal error, whatever failurePolicy says.
          calls.push({ webhook: hook.name, object, outcome: 'failed-closed', message: String(err) });
          throw deny(hook.name, `JSON patch failed: ${err instanceof Error ? err.message : String(err)}`, 500);
        }
      },
    };
    return server.admission.register(plugin);
  });
  return { calls, unregister: () => offs.forEach((off) => off()) };
}
