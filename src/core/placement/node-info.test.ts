/**
 * What the scheduler reads from a Node object (NodeInfo) at its edges: conditions in any
 * order, a node written without status, images whose names do not parse, a node of no
 * known platform, allocatable that does not parse; and how platforms are displayed.
 */
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../../test/builders/index.ts';
import { parsePlatform } from '../platform/platform.ts';
import { displayPlatform } from './display.ts';
import { NodeInfo } from './node-info.ts';
import { taintToleration } from './filters/taint-toleration.ts';
import { preparePod } from './pod-info.ts';
import { makePod } from '../../../test/builders/index.ts';

describe('NodeInfo', () => {
  it('reads the Ready condition wherever it is in the list (kubelet writes MemoryPressure, DiskPressure, PIDPressure, Ready)', () => {
    const node = makeNode('n').build();
    const conditions = (ready: string) => [
      { type: 'MemoryPressure', status: 'False' }, { type: 'DiskPressure', status: 'False' }, { type: 'PIDPressure', status: 'False' }, { type: 'Ready', status: ready },
    ];
    expect(new NodeInfo({ ...node, status: { ...node.status, conditions: conditions('True') } }).ready).toBe(true);
    expect(new NodeInfo({ ...node, status: { ...node.status, conditions: conditions('Unknown') } }).ready).toBe(false);
  });

  it('a node written with only a name and labels: ready, no images, the kubelet default of 110 pods, nameless nodes named ""', () => {
    const info = new NodeInfo({ metadata: { name: 'bare', labels: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux' } } });
    expect([info.ready, info.images.size, info.allowedPods, info.platformKey, info.hardTaints.length]).toEqual([true, 0, 110, 'linux/arm64', 0]);
    expect(new NodeInfo({ metadata: {} }).name).toBe('');
  });

  it('keeps only the image names that parse, normalised, and entries without names add nothing', () => {
    const node = makeNode('n').image(['Not A Reference!', 'nginx:1.27'], 100).build();
    const info = new NodeInfo({ ...node, status: { ...node.status, images: [...(node.status?.images ?? []), { sizeBytes: 7 }, { names: ['bad ref'], sizeBytes: 9 }] } });
    expect([...info.images]).toEqual([['docker.io/library/nginx:1.27', 100]]);
  });

  it('a node of no known platform has the key "", and a node whose allocatable does not parse says which field, under its name', () => {
    const info = new NodeInfo(makeNode('odd').arch('sparc').build());
    expect([info.platform, info.platformKey]).toEqual([undefined, '']);
    const bad = new NodeInfo(makeNode('n7').allocatable({ memory: 'lots' }).build());
    expect(bad.invalid).toMatch(/^node n7: status\.allocatable\.memory: /);
    expect(bad.allowedPods).toBe(0);
  });

  it('a hard taint\'s refusal names the TaintToleration plugin and the taint', () => {
    const info = new NodeInfo(makeNode('n').taint('dedicated', 'gpu', 'NoSchedule').build());
    const pod = preparePod(makePod('p').build(), undefined);
    if (!pod.ok) throw new Error(pod.error);
    expect(taintToleration.filter(pod.value, info)).toEqual({ code: 'UnschedulableAndUnresolvable', plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {dedicated: gpu}'] });
  });
});

describe('displayPlatform: as image indexes are read', () => {
  it.each([
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/arm/v8', 'linux/arm/v8'],
    ['linux/arm/v7', 'linux/arm/v7'],
    ['linux/amd64', 'linux/amd64'],
  ])('%s is shown as %s', (text, shown) => {
    const p = parsePlatform(text);
    if (!p.ok) throw new Error(p.error);
    expect(displayPlatform(p.value)).toBe(shown);
  });
});
