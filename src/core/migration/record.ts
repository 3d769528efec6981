/**
 * The Migration record: one pod's move, written before anything is touched and read back
 * every round, so whoever runs the migrator next (another replica, the simulator's next
 * minute, `polyarch migrate` again) finishes it. On a cluster it is the
 * `migrations.polyarch.io/v1alpha1` custom resource (deploy/scheduler/crd-migration.yaml); on the
 * simulator a map in memory. Both go through the MigrationStore port.
 */
import { z } from 'zod';

/** `exec-format-error`: a container of the pod cannot run on its node's platform (core/exec-format). */
export type MigrationReason = 'node-lost' | 'drain' | 'manual' | 'exec-format-error';

/**
 * How the pod moves:
 * - `evict`: a controller (ReplicaSet, Job, ...) re-creates it from its template; a bare
 *   pod moved this way is gone (Kubernetes' own behaviour, the simulator's baseline);
 * - `recreate`: a bare pod, created again under its name from `spec.template`;
 * - `delete`: a StatefulSet pod: on a lost node only once the node is confirmed gone.
 */
export type MigrationMethod = 'evict' | 'recreate' | 'delete';

/**
 * Pending (recorded; waiting for the pod's toleration or the node's confirmation),
 * Evicting (an eviction was refused, retried), WaitingForReplacement, Blocked (the
 * replacement can run nowhere now: the scheduler's reason; it may still succeed; or,
 * recorded so before anything moved, the pod can run nowhere and stays where it is),
 * Succeeded, Failed.
 */
export type MigrationPhase = 'Pending' | 'Evicting' | 'WaitingForReplacement' | 'Blocked' | 'Succeeded' | 'Failed';

export interface MigrationSpec {
  /** The pod being moved, `namespace/name`. */
  readonly pod: string;
  /** The incarnation being moved (a re-created pod has another uid). */
  readonly podUID?: string;
  readonly reason: MigrationReason;
  readonly fromNode?: string;
  /** Platform asked for (manual moves); absent when any will do. */
  readonly toPlatform?: string;
  readonly method: MigrationMethod;
  /** For `recreate`: the pod as it will be created again (architecture-neutral images). */
  readonly template?: unknown;
  /**
   * For a lost node: how long the pod tolerates it (its NoExecute toleration, or the
   * default); null when it tolerates it forever (it moves only once the node is gone or
   * fenced). Absent on drains and manual moves.
   */
  readonly tolerationSeconds?: number | null;
  /**
   * Set when the pod is not to be moved at all (an exec format error and its image runs on
   * no other platform of the cluster): why. The record stays Blocked and the pod where it
   * is. In the spec, not only the status, because a status written with a create is dropped.
   */
  readonly heldReason?: string;
}

export interface MigrationStatus {
  readonly phase: MigrationPhase;
  readonly message?: string;
  /** Rounds that tried an action (evict, delete, create). */
  readonly attempts?: number;
  /** Name of the pod that replaced it (bare and StatefulSet pods keep their name). */
  readonly replacement?: string;
  /** Where the replacement runs, and on which platform. */
  readonly node?: string;
  readonly platform?: string;
}

export interface MigrationRecord {
  readonly name: string;
  readonly spec: MigrationSpec;
  readonly status?: MigrationStatus;
}

/** Phases after which nothing more happens to a record. */
export const FINISHED_PHASES: ReadonlySet<MigrationPhase> = new Set(['Succeeded', 'Failed']);

export const isFinished = (r: MigrationRecord): boolean => FINISHED_PHASES.has(r.status?.phase ?? 'Pending');

/** A DNS-1123 name for the Migration of one pod incarnation (namespace.name.uid8). */
export function migrationName(pod: { readonly metadata: { readonly name?: string; readonly namespace?: string; readonly uid?: string } }): string {
  const base = `${pod.metadata.namespace ?? 'default'}.${pod.metadata.name ?? ''}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  const uid = (pod.metadata.uid ?? '').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  return `${base.slice(0, 240)}${uid ? `.${uid}` : ''}`.replace(/^[.-]+|[.-]+$/g, '');
}

const specSchema = z.looseObject({
  pod: z.string().regex(/^[^/]+\/[^/]+$/, 'expected namespace/name'),
  podUID: z.string().optional(),
  reason: z.enum(['node-lost', 'drain', 'manual', 'exec-format-error']),
  fromNode: z.string().optional(),
  toPlatform: z.string().optional(),
  method: z.enum(['evict', 'recreate', 'delete']),
  template: z.unknown().optional(),
  tolerationSeconds: z.number().int().min(0).nullable().optional(),
  heldReason: z.string().optional(),
});

const statusSchema = z.looseObject({
  phase: z.enum(['Pending', 'Evicting', 'WaitingForReplacement', 'Blocked', 'Succeeded', 'Failed']),
  message: z.string().optional(),
  attempts: z.number().int().min(0).optional(),
  replacement: z.string().optional(),
  node: z.string().optional(),
  platform: z.string().optional(),
});

const recordSchema = z.object({ name: z.string().min(1), spec: specSchema, status: statusSchema.optional() });

/**
 * A Migration as read back from the store (on a cluster, anyone may have edited it):
 * checked field by field; the error names the field.
 */
export function parseMigration(raw: unknown): { ok: true; value: MigrationRecord } | { ok: false; error: string } {
  const r = recordSchema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data as MigrationRecord };
  const i = r.error.issues[0];
  const path = (i?.path ?? []).map(String).join('.');
  return { ok: false, error: `${path || 'migration'}: ${i?.message ?? 'invalid'}` };
}
