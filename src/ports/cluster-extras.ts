/**
 * What the live scheduler and migrator need beyond ClusterReader/ClusterWriter (the
 * simulator may implement these too; the app checks for them where optional).
 */
import type { PodCondition } from '../core/k8s/types.ts';
import type { ObjectRef, WriteResult } from './cluster.ts';

/** pods/status: set one condition (merged by type), as kube-scheduler writes PodScheduled. */
export interface PodConditionWriter {
  setPodCondition(pod: ObjectRef, condition: PodCondition): Promise<WriteResult>;
}

/** Push notification that the change feed grew, so loops need not poll on a timer. */
export interface ChangeNotifier {
  /** Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** A polyarch custom resource (Migration): created, read back and its status updated. */
export interface MigrationRecord {
  readonly name: string;
  readonly spec: {
    /** The pod being moved, `namespace/name`. */
    readonly pod: string;
    readonly podUID?: string;
    readonly reason: 'node-lost' | 'drain' | 'manual';
    readonly fromNode?: string;
    /** Platform asked for (manual moves); empty when any will do. */
    readonly toPlatform?: string;
    /** How the pod is moved. */
    readonly method: 'evict' | 'recreate' | 'delete';
    /** For a re-created bare pod: the pod as it will be created again (architecture-neutral). */
    readonly template?: unknown;
  };
  readonly status?: {
    readonly phase: 'Pending' | 'Evicting' | 'WaitingForReplacement' | 'Succeeded' | 'Failed';
    readonly message?: string;
    readonly attempts?: number;
    readonly replacement?: string;
    readonly node?: string;
    readonly platform?: string;
  };
}

export interface MigrationStore {
  listMigrations(): Promise<readonly MigrationRecord[]>;
  createMigration(record: MigrationRecord): Promise<WriteResult>;
  updateMigrationStatus(name: string, status: NonNullable<MigrationRecord['status']>): Promise<WriteResult>;
  deleteMigration(name: string): Promise<WriteResult>;
}
