/** The simulator's BadPlatformStore: the negative record of S1 in memory (a ConfigMap on a cluster). */
import { badPlatformData, BadPlatformIndex, type BadPlatform } from '../core/exec-format/bad-platforms.ts';
import type { BadPlatformStore } from '../ports/cluster-extras.ts';
import type { WriteResult } from '../ports/cluster.ts';

export class MemoryBadPlatformStore implements BadPlatformStore {
  private index = new BadPlatformIndex();

  listBadPlatforms(): Promise<{ entries: readonly BadPlatform[]; errors: readonly string[] }> {
    return Promise.resolve({ entries: this.index.entries(), errors: [] });
  }

  recordBadPlatform(entry: BadPlatform): Promise<WriteResult> {
    this.index.add(entry);
    return Promise.resolve({ ok: true, value: undefined });
  }

  forgetBadPlatforms(keys: readonly string[]): Promise<WriteResult> {
    const drop = new Set(keys);
    this.index = new BadPlatformIndex(this.index.entries().filter((e) => !drop.has(badPlatformData(e)[0])));
    return Promise.resolve({ ok: true, value: undefined });
  }
}
