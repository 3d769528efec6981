/**
 * What the live scheduler and migrator need beyond ClusterReader/ClusterWriter (the
 * simulator may implement these too; the app checks for them where optional).
 */
import type { PodCondition } from '../core/k8s/types.ts';
import type { MigrationRecord } from '../core/migration/record.ts';
import type { BadPlatform } from '../core/exec-format/bad-platforms.ts';
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

/** polyarch's record of a move (core/migration/record.ts): a custom resource on a cluster, memory on the simulator. */
export type { MigrationRecord } from '../core/migration/record.ts';

export interface MigrationStore {
  listMigrations(): Promise<readonly MigrationRecord[]>;
  createMigration(record: MigrationRecord): Promise<WriteResult>;
  updateMigrationStatus(name: string, status: NonNullable<MigrationRecord['status']>): Promise<WriteResult>;
  deleteMigration(name: string): Promise<WriteResult>;
}

/** The negative record of S1 (core/exec-format): a ConfigMap on a cluster, memory on the simulator. */
export type { BadPlatform } from '../core/exec-format/bad-platforms.ts';

export interface BadPlatformStore {
  /** Every entry; `errors` names the entries left out because they do not parse. */
  listBadPlatforms(): Promise<{ entries: readonly BadPlatform[]; errors: readonly string[] }>;
  /** Adds an entry (kept if that digest and platform are recorded already). */
  recordBadPlatform(entry: BadPlatform): Promise<WriteResult>;
  /** Removes entries by data key (core/exec-format badPlatformData); keys not recorded are no error. */
  forgetBadPlatforms(keys: readonly string[]): Promise<WriteResult>;
}

/** pods/log, the tail only: at most `tailLines` lines and `limitBytes` bytes. */
export interface PodLogReader {
  readPodLog(pod: ObjectRef, options: { container: string; previous: boolean; tailLines: number; limitBytes: number }): Promise<{ ok: true; value: string } | { ok: false; error: string }>;
}
