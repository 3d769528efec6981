/**
 * The resources the fake API server serves. Adding one is adding an entry to BUILTIN_RESOURCES.
 *
 * Field names follow the discovery documents (APIResource in
 * https://kubernetes.io/docs/reference/generated/kubernetes-api/v1.33/#apiresource-v1-meta):
 * name (plural), singularName, kind, namespaced, verbs, shortNames, subresources.
 */

import type { KubeObject } from './types.ts';

export type Subresource = 'status' | 'binding' | 'eviction' | 'resize' | 'scale' | 'log';

export interface ResourceDef {
  group: string; // '' for core
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources: Subresource[];
  /**
   * Whether PUT without metadata.resourceVersion is accepted ("unconditional update").
   * Built-in kinds allow it; custom resources do not (apiextensions-apiserver's strategy
   * answers AllowUnconditionalUpdate() = false).
   */
  unconditionalUpdate: boolean;
  /** Whether the kind has a status stanza kept apart from the main resource (status subresource). */
  statusSubresource: boolean;
  /** Strategic merge patch is defined only for compiled-in types, never for custom resources. */
  strategicMerge: boolean;
  /** Extra field selectors, beyond metadata.name and metadata.namespace (which every kind has). */
  fieldSelectors: Record<string, (obj: KubeObject) => string>;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const builtin = (
  group: string, version: string, plural: string, kind: string, namespaced: boolean,
  extra: Partial<ResourceDef> = {},
): ResourceDef => ({
  group, version, plural, kind, namespaced,
  singular: kind.toLowerCase(),
  subresources: [],
  unconditionalUpdate: true,
  statusSubresource: false,
  strategicMerge: true,
  fieldSelectors: {},
  ...extra,
});

/** A namespaced custom resource with a status subresource, as a CRD would declare it. */
export const customResource = (group: string, version: string, plural: string, kind: string, extra: Partial<ResourceDef> = {}): ResourceDef =>
  builtin(group, version, plural, kind, true, {
    subresources: ['status'], statusSubresource: true, unconditionalUpdate: false, strategicMerge: false, categories: ['polyarch'], ...extra,
  });

export const BUILTIN_RESOURCES: ResourceDef[] = [
  builtin('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status'], statusSubresource: true,
    fieldSelectors: { 'status.phase': (o) => str(o.status?.phase) } }),
  builtin('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'], statusSubresource: true,
    fieldSelectors: { 'spec.unschedulable': (o) => String(o.spec?.unschedulable === true) } }),
  builtin('', 'v1', 'pods', 'Pod', true, {
    shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'eviction', 'resize', 'log'], statusSubresource: true,
    // The field selectors the pod registry supports (pkg/registry/core/pod/strategy.go, ToSelectableFields).
    fieldSelectors: {
      'spec.nodeName': (o) => str(o.spec?.nodeName),
      'spec.schedulerName': (o) => str(o.spec?.schedulerName),
      'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
      'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
      'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
      'status.phase': (o) => str(o.status?.phase),
      'status.podIP': (o) => str(o.status?.podIP),
      'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
    },
  }),
  builtin('', 'v1', 'events', 'Event', true, { shortNames: ['ev'],
    fieldSelectors: {
      'involvedObject.kind': (o) => str((o.involvedObject as { kind?: string } | undefined)?.kind),
      'involvedObject.name': (o) => str((o.involvedObject as { name?: string } | undefined)?.name),
      'involvedObject.namespace': (o) => str((o.involvedObject as { namespace?: string } | undefined)?.namespace),
      'involvedObject.uid': (o) => str((o.involvedObject as { uid?: string } | undefined)?.uid),
      reason: (o) => str(o.reason),
      type: (o) => str(o.type),
    } }),
  builtin('', 'v1', 'secrets', 'Secret', true, { fieldSelectors: { type: (o) => str(o.type) } }),
  builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  builtin('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  builtin('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], statusSubresource: true }),
  builtin('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], statusSubresource: true }),
  builtin('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, { shortNames: ['pdb'], subresources: ['status'], statusSubresource: true }),
  builtin('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  builtin('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  // Stored and served, with no behaviour of their own: enough to apply deploy/ manifests and
  // for the webhook helper to read its MutatingWebhookConfigurations.
  builtin('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'], statusSubresource: true }),
  builtin('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'], statusSubresource: true }),
  builtin('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], statusSubresource: true }),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  builtin('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false),
  builtin('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false),
  builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, { shortNames: ['crd', 'crds'], subresources: ['status'], statusSubresource: true }),
  customResource('polyarch.io', 'v1alpha1', 'migrations', 'Migration', { shortNames: ['mig'] }),
  customResource('polyarch.io', 'v1alpha1', 'scalingpolicies', 'ScalingPolicy', { shortNames: ['sp'] }),
];

export const groupVersion = (r: Pick<ResourceDef, 'group' | 'version'>): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** The store's key for a resource: "group/plural" ("/pods" for core). */
export const resourceId = (r: Pick<ResourceDef, 'group' | 'plural'>): string => `${r.group}/${r.plural}`;

export class ResourceTable {
  private readonly byPath = new Map<string, ResourceDef>();
  constructor(readonly all: ResourceDef[]) {
    for (const r of all) this.byPath.set(`${groupVersion(r)}/${r.plural}`, r);
  }
  /** Serves one more resource (a CustomResourceDefinition was created); false when it is already served. */
  add(def: ResourceDef): boolean {
    const key = `${groupVersion(def)}/${def.plural}`;
    if (this.byPath.has(key)) return false;
    this.all.push(def);
    this.byPath.set(key, def);
    return true;
  }
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group ? `${group}/` : ''}${version}/${plural}`);
  }
  /** By group and resource, ignoring version (each resource is served at one version here). */
  byGroupResource(group: string, plural: string): ResourceDef | undefined {
    return this.all.find((r) => r.group === group && r.plural === plural);
  }
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.all) {
      if (!r.group) continue;
      const versions = out.get(r.group) ?? [];
      if (!versions.includes(r.version)) versions.push(r.version);
      out.set(r.group, versions);
    }
    return out;
  }
}
