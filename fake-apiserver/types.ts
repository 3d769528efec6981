/** Shapes shared by the fake API server's modules. Objects are plain JSON, as on the wire. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * metav1.ObjectMeta as the server stores and writes it: plain mutable JSON with the
 * fields only the server sets (generation, deletionGracePeriodSeconds, finalizers). The
 * read-only view polyarch uses is src/core/k8s/types.ts ObjectMeta.
 */
interface StoredMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: StoredOwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** An owner reference as written (every field set; blockOwnerDeletion). */
interface StoredOwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A Kubernetes object as JSON: apiVersion, kind, metadata and whatever else its kind has. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: StoredMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Where an object lives: its resource, namespace (empty for cluster-scoped) and name. */
export interface ObjectKey {
  resource: string; // "group/resource", "" group for core: "/pods"
  namespace: string;
  name: string;
}
