import { describe, expect, it } from 'vitest';
import { makeNode, makePod } from '../../test/builders/index.ts';
import { silentLogger } from '../ports/logger.ts';
import { SchedulerCache } from './scheduler-cache.ts';

describe('SchedulerCache', () => {
  it('releases a bound pod seen again pending under the same key (deleted and re-created between two looks)', () => {
    const cache = new SchedulerCache(silentLogger);
    const bound = makePod('db-1').requests({ cpu: '1' }).nodeName('a').build();
    cache.reset([makeNode('a').allocatable({ cpu: '4' }).build()], [bound]);
    expect(cache.snapshot.node('a')?.requested.milliCPU).toBe(1000);
    const recreated = makePod('db-1').requests({ cpu: '1' }).build();
    expect(cache.observePod(recreated)).toBe(true);
    expect(cache.snapshot.node('a')?.requested.milliCPU).toBe(0);
    // A pending pod never counted stays a no-op.
    expect(cache.observePod(makePod('other').build())).toBe(false);
  });
});
