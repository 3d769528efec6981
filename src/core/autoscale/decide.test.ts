import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decidePod, type ContainerSizing, type PodDecisionInput } from './decide.ts';

const Mi = 2 ** 20;

const container = (name: string): fc.Arbitrary<ContainerSizing> =>
  fc
    .record({
      cpu: fc.integer({ min: 10, max: 4000 }),
      mem: fc.integer({ min: 16, max: 8192 }),
      minCpu: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
      spanCpu: fc.integer({ min: 0, max: 4000 }),
      minMem: fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
      spanMem: fc.integer({ min: 0, max: 8192 }),
      hasMax: fc.boolean(),
      limitRatio: fc.option(fc.double({ min: 1, max: 4, noNaN: true }), { nil: undefined }),
    })
    .map((x) => ({
      name,
      request: { cpu: x.cpu / 1000, memory: x.mem * Mi },
      limit: x.limitRatio === undefined ? {} : { cpu: (x.cpu * x.limitRatio) / 1000, memory: Math.ceil(x.mem * x.limitRatio) * Mi },
      min: { ...(x.minCpu !== undefined ? { cpu: x.minCpu / 1000 } : {}), ...(x.minMem !== undefined ? { memory: x.minMem * Mi } : {}) },
      max: x.hasMax ? { cpu: ((x.minCpu ?? 1) + x.spanCpu) / 1000, memory: ((x.minMem ?? 1) + x.spanMem) * Mi } : {},
    }));

const input: fc.Arbitrary<PodDecisionInput> = fc
  .record({
    containers: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).chain((names) => fc.tuple(...[...new Set(names)].map(container))),
    targetCpu: fc.integer({ min: 1, max: 16000 }),
    targetMem: fc.integer({ min: 1, max: 32768 }),
    usageMem: fc.option(fc.integer({ min: 0, max: 32768 }), { nil: undefined }),
    margin: fc.double({ min: 0, max: 0.5, noNaN: true }),
    freeCpu: fc.integer({ min: 0, max: 8000 }),
    freeMem: fc.integer({ min: 0, max: 16384 }),
    minChange: fc.constantFrom(0, 0.05),
  })
  .map((x) => ({
    containers: x.containers,
    target: { cpu: x.targetCpu / 1000, memory: x.targetMem * Mi },
    manage: ['cpu', 'memory'] as const,
    usage: x.usageMem === undefined ? {} : { memory: x.usageMem * Mi },
    memoryMargin: x.margin,
    nodeFree: { cpu: x.freeCpu / 1000, memory: x.freeMem * Mi },
    resize: { kind: 'none' } as const,
    minChange: { cpu: x.minChange, memory: x.minChange },
    allowRestart: true,
  }));

const total = (xs: readonly { memory: number }[]): number => xs.reduce((s, x) => s + x.memory, 0);

describe('decidePod safety (properties)', () => {
  it('never lowers memory below what is in use (with the margin)', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = decidePod(i);
        const before = total(i.containers.map((c) => c.request));
        const after = total(d.containers.map((c) => c.requests));
        if (after < before && i.usage.memory !== undefined) expect(after).toBeGreaterThanOrEqual(i.usage.memory / (1 - i.memoryMargin) - 1);
        if (i.usage.memory !== undefined) expect(after).toBeGreaterThanOrEqual(Math.min(before, i.usage.memory));
        for (const c of d.containers) if (c.limits.memory !== undefined) expect(c.limits.memory).toBeGreaterThanOrEqual(c.requests.memory);
      }),
      { numRuns: 500 },
    );
  });

  it('never sets a changed amount below min or above max', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = decidePod(i);
        d.containers.forEach((c, k) => {
          const s = i.containers[k]!;
          for (const r of ['cpu', 'memory'] as const) {
            if (c.requests[r] === s.request[r]) continue;
            if (s.max[r] !== undefined) expect(c.requests[r]).toBeLessThanOrEqual(s.max[r] + 1e-9);
            if (s.min[r] !== undefined) expect(c.requests[r]).toBeGreaterThanOrEqual(s.min[r] - 1e-9);
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('with a limit floor: a changed limit stays within the max and above the request, and is never lowered unless the max asks it', () => {
    const floor = fc.record({ cpu: fc.integer({ min: 0, max: 16000 }), memory: fc.integer({ min: 0, max: 32768 }) });
    fc.assert(
      fc.property(input, floor, (i, f) => {
        const d = decidePod({ ...i, limitFloor: { cpu: f.cpu / 1000, memory: f.memory * Mi } });
        d.containers.forEach((c, k) => {
          const s = i.containers[k]!;
          for (const r of ['cpu', 'memory'] as const) {
            const l = c.limits[r];
            const was = s.limit[r];
            if (l === undefined || was === undefined) continue;
            expect(l).toBeGreaterThanOrEqual(c.requests[r]);
            if (l === was) continue;
            if (s.max[r] !== undefined) expect(l).toBeLessThanOrEqual(Math.max(s.max[r], c.requests[r]) + 1e-9);
            if (l < was) expect(l).toBe(Math.max(s.max[r]!, c.requests[r]));
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('never grows a pod by more than its node has free', () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = decidePod(i);
        for (const r of ['cpu', 'memory'] as const) {
          const before = i.containers.reduce((s, c) => s + c.request[r], 0);
          const after = d.containers.reduce((s, c) => s + c.requests[r], 0);
          if (after > before) expect(after - before).toBeLessThanOrEqual(i.nodeFree[r] + 1e-9);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('decidePod', () => {
  const base: PodDecisionInput = {
    containers: [{ name: 'app', request: { cpu: 0.5, memory: 512 * Mi }, limit: { memory: 1024 * Mi }, min: {}, max: {} }],
    target: { cpu: 1, memory: 256 * Mi },
    manage: ['cpu', 'memory'],
    usage: { memory: 400 * Mi },
    memoryMargin: 0.1,
    nodeFree: { cpu: 0.2, memory: 4096 * Mi },
    resize: { kind: 'none' },
    minChange: { cpu: 0.05, memory: 0.05 },
    allowRestart: true,
  };

  it('reports an increase the node cannot take and keeps memory above use', () => {
    const d = decidePod(base);
    expect(d.nodeFull).toBe(true);
    expect(d.notes.map((n) => n.reason)).toEqual(expect.arrayContaining(['NodeFull', 'BelowUsage']));
    expect(d.containers[0]!.requests.cpu).toBe(0.5);
    expect(d.containers[0]!.requests.memory).toBe(445 * Mi); // ceil(400Mi / 0.9)
    expect(d.containers[0]!.limits.memory).toBe(890 * Mi); // the 2:1 ratio kept
  });

  it('minChange per resource: a move within its band is not made, one beyond it is (hysteresis)', () => {
    // 8 % down in CPU and in memory (no usage floor in the way).
    const small = { ...base, target: { cpu: 0.46, memory: 471 * Mi }, usage: {}, nodeFree: { cpu: 8, memory: 8192 * Mi } };
    const held = decidePod({ ...small, minChange: { cpu: 0.1, memory: 0.05 } });
    expect(held.kind).toBe('resize');
    expect(held.containers[0]!.requests).toEqual({ cpu: 0.5, memory: 471 * Mi });
    expect(decidePod({ ...small, minChange: { cpu: 0.1, memory: 0.1 } }).kind).toBe('none');
    expect(decidePod({ ...small, minChange: { cpu: 0.05, memory: 0.05 } }).containers[0]!.requests).toEqual({ cpu: 0.46, memory: 471 * Mi });
  });

  it("with a limit floor (polyarch's rule) a limit is never lowered, rises to the floor, and stays within the max", () => {
    const c: ContainerSizing = { name: 'app', request: { cpu: 0.5, memory: 512 * Mi }, limit: { cpu: 1, memory: 1024 * Mi }, min: {}, max: { cpu: 2, memory: 4096 * Mi } };
    const quiet = { ...base, containers: [c], usage: { memory: 100 * Mi }, nodeFree: { cpu: 8, memory: 8192 * Mi } };
    // The request falls with the forecast; the limit, a safety cap, stays where it was (VPA's proportional rule would halve it).
    const down = decidePod({ ...quiet, target: { cpu: 0.25, memory: 256 * Mi }, limitFloor: { cpu: 0.3, memory: 300 * Mi } });
    expect(down.containers[0]!.requests).toEqual({ cpu: 0.25, memory: 256 * Mi });
    expect(down.containers[0]!.limits).toEqual({ cpu: 1, memory: 1024 * Mi });
    expect(decidePod({ ...quiet, target: { cpu: 0.25, memory: 256 * Mi } }).containers[0]!.limits).toEqual({ cpu: 0.5, memory: 512 * Mi });
    // Demand went past the limit (an OOM kill, throttling): the limit rises to the floor though the requests stay, within the max.
    const up = decidePod({ ...quiet, target: { cpu: 0.5, memory: 512 * Mi }, limitFloor: { cpu: 3.1, memory: 1500 * Mi } });
    expect(up.kind).toBe('resize');
    expect(up.containers[0]!.requests).toEqual({ cpu: 0.5, memory: 512 * Mi });
    expect(up.containers[0]!.limits).toEqual({ cpu: 2, memory: 1500 * Mi });
    // A request raised past the max: the limit's ratio is kept up to the max, never above it (seen live: 2018m under a max of 2).
    const hot = decidePod({ ...quiet, target: { cpu: 1.3, memory: 512 * Mi }, limitFloor: { cpu: 1.5, memory: 0 } });
    expect(hot.containers[0]!.requests.cpu).toBe(1.3);
    expect(hot.containers[0]!.limits.cpu).toBe(2);
    // Nothing to raise and nothing to change: no resize.
    expect(decidePod({ ...quiet, target: { cpu: 0.5, memory: 512 * Mi }, limitFloor: { cpu: 0.9, memory: 900 * Mi } }).kind).toBe('none');
  });

  it('controlledValues: RequestsAndLimits keeps the ratio, RequestsOnly leaves limits as written (up to the request), RaiseOnly never lowers', () => {
    const c: ContainerSizing = { name: 'app', request: { cpu: 0.5, memory: 512 * Mi }, limit: { cpu: 1, memory: 1024 * Mi }, min: {}, max: {} };
    const quiet = { ...base, containers: [c], usage: { memory: 100 * Mi }, nodeFree: { cpu: 8, memory: 8192 * Mi } };
    const down = { ...quiet, target: { cpu: 0.25, memory: 256 * Mi } };
    const up = { ...quiet, target: { cpu: 1.5, memory: 768 * Mi } };
    const floor = { limitFloor: { cpu: 0.3, memory: 300 * Mi } };
    expect(decidePod({ ...down, controlledValues: 'RequestsAndLimits' }).containers[0]!.limits).toEqual({ cpu: 0.5, memory: 512 * Mi });
    expect(decidePod({ ...up, controlledValues: 'RequestsAndLimits' }).containers[0]!.limits).toEqual({ cpu: 3, memory: 1536 * Mi });
    expect(decidePod({ ...down, controlledValues: 'RequestsOnly' }).containers[0]!.limits).toEqual({ cpu: 1, memory: 1024 * Mi });
    // A request passing the limit takes the limit with it (the API server refuses request > limit).
    expect(decidePod({ ...up, controlledValues: 'RequestsOnly' }).containers[0]!.limits).toEqual({ cpu: 1.5, memory: 1024 * Mi });
    expect(decidePod({ ...down, ...floor, controlledValues: 'RaiseOnly' }).containers[0]!.limits).toEqual({ cpu: 1, memory: 1024 * Mi });
    expect(decidePod({ ...up, ...floor, controlledValues: 'RaiseOnly' }).containers[0]!.limits).toEqual({ cpu: 3, memory: 1536 * Mi });
  });

  it('waits for a resize in flight and reverts an infeasible one once', () => {
    expect(decidePod({ ...base, resize: { kind: 'in-progress' } }).kind).toBe('wait');
    expect(decidePod({ ...base, resize: { kind: 'deferred', message: 'x' } }).kind).toBe('wait');
    const back = decidePod({ ...base, containers: [{ ...base.containers[0]!, allocated: { cpu: 0.25, memory: 512 * Mi } }], resize: { kind: 'infeasible', message: 'too big' } });
    expect(back.kind).toBe('revert');
    expect(back.containers[0]!.requests.cpu).toBe(0.25);
  });

  it('a decrease the memory in use forbids leaves memory as it is (the floor is no reason to grow)', () => {
    // Target 256Mi, 500Mi in use with a 10% margin: the floor (556Mi) is above the 512Mi request.
    const d = decidePod({ ...base, target: { cpu: 0.5, memory: 256 * Mi }, usage: { memory: 500 * Mi } });
    expect(d.containers[0]!.requests.memory).toBe(512 * Mi);
    expect(d.notes.map((n) => n.reason)).toContain('BelowUsage');
    expect(d.kind).toBe('none');
  });

  it('skips a change smaller than minChange of the request, per resource', () => {
    const roomy = { ...base, usage: {}, nodeFree: { cpu: 8, memory: 8192 * Mi } };
    // 4% more CPU and 3% less memory: below the 5% threshold, nothing is sent.
    expect(decidePod({ ...roomy, target: { cpu: 0.52, memory: 497 * Mi } })).toMatchObject({ kind: 'none', containers: [{ requests: { cpu: 0.5, memory: 512 * Mi } }] });
    // 6% more CPU goes; memory's 3% still does not.
    expect(decidePod({ ...roomy, target: { cpu: 0.53, memory: 497 * Mi } })).toMatchObject({ kind: 'resize', containers: [{ requests: { cpu: 0.53, memory: 512 * Mi } }] });
    // With minChange 0 every change goes.
    expect(decidePod({ ...roomy, minChange: { cpu: 0, memory: 0 }, target: { cpu: 0.52, memory: 497 * Mi } }).containers[0]!.requests).toEqual({ cpu: 0.52, memory: 497 * Mi });
  });

  it('splits the pod target over the containers in proportion to their requests', () => {
    const two: PodDecisionInput = {
      ...base, usage: {}, nodeFree: { cpu: 8, memory: 8192 * Mi },
      containers: [
        { name: 'app', request: { cpu: 0.3, memory: 300 * Mi }, limit: {}, min: {}, max: {} },
        { name: 'sidecar', request: { cpu: 0.1, memory: 100 * Mi }, limit: {}, min: {}, max: {} },
      ],
      target: { cpu: 0.8, memory: 200 * Mi },
    };
    expect(decidePod(two).containers.map((c) => c.requests)).toEqual([{ cpu: 0.6, memory: 150 * Mi }, { cpu: 0.2, memory: 50 * Mi }]);
  });

  it('an increase needs only its own size free on the node, not the whole new request', () => {
    // 0.5 -> 0.6 cores needs 0.1 free; the node has 0.2 (less than the 0.6 total).
    const d = decidePod({ ...base, usage: {}, target: { cpu: 0.6, memory: 512 * Mi }, nodeFree: { cpu: 0.2, memory: 0 } });
    expect(d).toMatchObject({ kind: 'resize', nodeFull: false, containers: [{ requests: { cpu: 0.6, memory: 512 * Mi } }] });
    // 0.5 -> 0.75 needs 0.25: refused, reported.
    const full = decidePod({ ...base, usage: {}, target: { cpu: 0.75, memory: 512 * Mi }, nodeFree: { cpu: 0.2, memory: 0 } });
    expect(full).toMatchObject({ kind: 'none', nodeFull: true, containers: [{ requests: { cpu: 0.5 } }] });
  });

  it('honours resizePolicy RestartContainer unless restarts are allowed', () => {
    const c = { ...base.containers[0]!, restartOn: ['memory' as const] };
    const d = decidePod({ ...base, containers: [c], usage: { memory: 10 * Mi }, allowRestart: false });
    expect(d.notes.some((n) => n.reason === 'NeedsRestart')).toBe(true);
    expect(d.containers[0]!.requests.memory).toBe(512 * Mi);
  });
});
