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

  it('counts a pod resized in place (same uid, same node) with its new requests, and says so', () => {
    const cache = new SchedulerCache(silentLogger);
    const bound = makePod('web-1').requests({ cpu: '1', memory: '1Gi' }).nodeName('a').build();
    cache.reset([makeNode('a').allocatable({ cpu: '4', memory: '8Gi' }).build()], [bound]);
    expect(cache.snapshot.node('a')?.requested.milliCPU).toBe(1000);
    // A status-only update changes nothing.
    expect(cache.observePod({ ...bound, status: { phase: 'Running' } })).toBe(false);
    expect(cache.snapshot.node('a')?.requested.milliCPU).toBe(1000);
    const resized = { ...bound, spec: { ...bound.spec, containers: bound.spec.containers.map((c) => ({ ...c, resources: { requests: { cpu: '250m', memory: '1Gi' } } })) } };
    expect(cache.observePod(resized)).toBe(true);
    expect(cache.snapshot.node('a')?.requested.milliCPU).toBe(250);
    expect(cache.snapshot.node('a')?.pods.size).toBe(1);
    // Seen again unchanged: a no-op.
    expect(cache.observePod(resized)).toBe(false);
    expect(cache.snapshot.node('a')?.requested.milliCPU).toBe(250);
  });
});
