/** The simulator's BadPlatformStore: the negative record of S1 in memory (a ConfigMap on a cluster). */
import { BadPlatformIndex, type BadPlatform } from '../core/exec-format/bad-platforms.ts';
import type { BadPlatformStore } from '../ports/cluster-extras.ts';
import type { WriteResult } from '../ports/cluster.ts';

export class MemoryBadPlatformStore implements BadPlatformStore {
  private readonly index = new BadPlatformIndex();

  listBadPlatforms(): Promise<{ entries: readonly BadPlatform[]; errors: readonly string[] }> {
    return Promise.resolve({ entries: this.index.entries(), errors: [] });
  }

  recordBadPlatform(entry: BadPlatform): Promise<WriteResult> {
    this.index.add(entry);
    return Promise.resolve({ ok: true, value: undefined });
  }
}
