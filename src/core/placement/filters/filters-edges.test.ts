// Filter cases mutation testing found untested (docs/testing.md): exact boundaries, used
// extended resources and ephemeral storage, over-committed nodes, same-IP host ports.
import { describe, expect, it } from 'vitest';
import { anyImage, makeNode, makePod, nodeTableOf, prepared, snapshotOf } from '../../../../test/builders/index.ts';
import type { Node, Pod } from '../../k8s/types.ts';
import type { FilterPlugin } from '../plugin.ts';
import type { Code } from '../status.ts';
import { nodePorts } from './node-ports.ts';
import { resourcesFit } from './resources-fit.ts';

function run(plugin: FilterPlugin, pod: Pod, node: Node, bound: Pod[] = []) {
  const info = snapshotOf([node], bound).node(node.metadata.name ?? '');
  if (!info) throw new Error('node missing');
  return plugin.filter(prepared(pod, anyImage()), info);
}

describe('NodeResourcesFit edges', () => {
  // 4 cpu, 8Gi, 100Gi ephemeral storage, 2 GPUs, 3 pods; "used" holds 3 cpu, 6Gi, 60Gi and a GPU.
  const node = makeNode('n1').allocatable({ cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi', 'nvidia.com/gpu': '2', pods: '3' }).build();
  const used = makePod('used').requests({ cpu: '3', memory: '6Gi', 'ephemeral-storage': '60Gi', 'nvidia.com/gpu': '1' }).nodeName('n1').build();
  const filler = (n: string) => makePod(n).nodeName('n1').build();
  it.each([
    ['exactly the free memory', makePod().requests({ memory: '2Gi' }).build(), [used], 'Success', []],
    ['ephemeral storage beyond what is left, within the node', makePod().requests({ 'ephemeral-storage': '50Gi' }).build(), [used], 'Unschedulable', ['Insufficient ephemeral-storage']],
    ['exactly the ephemeral storage left', makePod().requests({ 'ephemeral-storage': '40Gi' }).build(), [used], 'Success', []],
    ['a GPU when the only free one is taken', makePod().requests({ 'nvidia.com/gpu': '2' }).build(), [used], 'Unschedulable', ['Insufficient nvidia.com/gpu']],
    ['the one free GPU', makePod().requests({ 'nvidia.com/gpu': '1' }).build(), [used], 'Success', []],
    ['more GPUs than the node has', makePod().requests({ 'nvidia.com/gpu': '3' }).build(), [], 'UnschedulableAndUnresolvable', ['Insufficient nvidia.com/gpu']],
    ['memory: all of the node, some used: eviction helps', makePod().requests({ memory: '8Gi' }).build(), [used], 'Unschedulable', ['Insufficient memory']],
    ['memory beyond the node', makePod().requests({ memory: '9Gi' }).build(), [], 'UnschedulableAndUnresolvable', ['Insufficient memory']],
    ['cpu: all of the node, some used', makePod().requests({ cpu: '4' }).build(), [used], 'Unschedulable', ['Insufficient cpu']],
    ['ephemeral storage: all of the node, some used', makePod().requests({ 'ephemeral-storage': '100Gi' }).build(), [used], 'Unschedulable', ['Insufficient ephemeral-storage']],
    ['short of cpu, the GPU it wants is free: only cpu said', makePod().requests({ cpu: '2', 'nvidia.com/gpu': '1' }).build(), [used], 'Unschedulable', ['Insufficient cpu']],
    ['too many pods and short of cpu: both said', makePod().requests({ cpu: '2' }).build(), [used, filler('b'), filler('c')], 'Unschedulable', ['Too many pods', 'Insufficient cpu']],
    ['short of memory, exactly the free cpu: only memory said', makePod().requests({ cpu: '1', memory: '3Gi' }).build(), [used], 'Unschedulable', ['Insufficient memory']],
    ['short of cpu, exactly the free memory: only cpu said', makePod().requests({ cpu: '2', memory: '2Gi' }).build(), [used], 'Unschedulable', ['Insufficient cpu']],
  ] as [string, Pod, Pod[], Code, string[]][])('%s', (_n, pod, bound, code, reasons) => {
    const st = run(resourcesFit, pod, node, bound);
    expect(st.code).toBe(code);
    expect(st.reasons).toEqual(reasons);
  });

  it('a pod without requests fits an over-committed node (pods bound by someone else)', () => {
    const small = makeNode('n1').allocatable({ cpu: '1', memory: '1Gi' }).build();
    const hog = makePod('hog').requests({ cpu: '2', memory: '2Gi' }).nodeName('n1').build();
    expect(run(resourcesFit, makePod().build(), small, [hog]).code).toBe('Success');
  });

  it('a pod without requests on a full, over-committed node: only "Too many pods"', () => {
    const full = makeNode('n1').allocatable({ cpu: '1', memory: '1Gi', pods: '1' }).build();
    const hog = makePod('hog').requests({ cpu: '2', memory: '2Gi' }).nodeName('n1').build();
    const st = run(resourcesFit, makePod().build(), full, [hog]);
    expect([st.code, st.reasons]).toEqual(['Unschedulable', ['Too many pods']]);
  });
});

describe('NodePorts edges', () => {
  it('the same port on the same specific IP conflicts', () => {
    const holder = makePod('holder').hostPort(80, 'TCP', '10.0.0.1').nodeName('n1').build();
    expect(run(nodePorts, makePod().hostPort(80, 'TCP', '10.0.0.1').build(), makeNode('n1').build(), [holder]).code).toBe('Unschedulable');
  });
});

describe('the batch forms write only the slots asked for (FilterPlugin.filterMany: i < count)', () => {
  it.each([
    ['NodeResourcesFit', resourcesFit, makePod().requests({ cpu: '1' }).build()],
    ['NodePorts', nodePorts, makePod().hostPort(80).build()],
  ] as [string, FilterPlugin, Pod][])('%s', (_n, plugin, pod) => {
    const snap = snapshotOf([makeNode('a').build(), makeNode('b').allocatable({ cpu: '500m' }).build()], [makePod('holder').hostPort(80).nodeName('b').build()]);
    const table = nodeTableOf(snap.nodes);
    // Buffers exactly as long as the batch: nothing past them is read or written.
    const at = Int32Array.of(1, 0);
    const pass = new Uint8Array(2).fill(7);
    plugin.filterMany?.(prepared(pod, anyImage()), table, at, 2, pass);
    expect([...pass]).toEqual([0, 1]);
    const one = new Uint8Array(2).fill(7);
    plugin.filterMany?.(prepared(pod, anyImage()), table, Int32Array.of(0), 1, one);
    expect([...one]).toEqual([1, 7]);
  });
});
