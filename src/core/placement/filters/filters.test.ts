import { describe, expect, it } from 'vitest';
import { anyImage, makeImages, makeNode, makePod, prepared, snapshotOf } from '../../../../test/builders/index.ts';
import type { Node, Pod } from '../../k8s/types.ts';
import type { ImageLookup } from '../pod-info.ts';
import type { FilterPlugin } from '../plugin.ts';
import type { Code } from '../status.ts';
import { nodeAffinity } from './node-affinity.ts';
import { nodePorts } from './node-ports.ts';
import { nodeName, nodeReady, nodeUnschedulable } from './node-state.ts';
import { nodePlatformPlugin } from './platform.ts';
import { resourcesFit } from './resources-fit.ts';
import { taintToleration } from './taint-toleration.ts';

function run(plugin: FilterPlugin, pod: Pod, node: Node, bound: Pod[] = [], lookup: ImageLookup = anyImage()) {
  const snap = snapshotOf([node], bound);
  const info = snap.node(node.metadata.name ?? '');
  if (!info) throw new Error('node missing');
  return plugin.filter(prepared(pod, lookup), info);
}

type Row = [string, Pod, Node, Code, string[]?];

const check = (plugin: FilterPlugin, rows: Row[]) =>
  it.each(rows)('%s', (_name, pod, node, code, reasons) => {
    const st = run(plugin, pod, node);
    expect(st.code).toBe(code);
    if (reasons) expect(st.reasons).toEqual(reasons);
  });

describe('NodeUnschedulable', () => {
  check(nodeUnschedulable, [
    ['schedulable node', makePod().build(), makeNode().build(), 'Success'],
    ['cordoned node', makePod().build(), makeNode().unschedulable().build(), 'UnschedulableAndUnresolvable', ['node(s) were unschedulable']],
    ['cordoned, pod tolerates unschedulable', makePod().toleration({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }).build(), makeNode().unschedulable().build(), 'Success'],
    ['node with unparseable allocatable', makePod().build(), makeNode().allocatable({ cpu: 'four' }).build(), 'UnschedulableAndUnresolvable', ['node(s) had an invalid status']],
  ]);
});

describe('NodeReady', () => {
  check(nodeReady, [
    ['no conditions written: ready', makePod().build(), makeNode().build(), 'Success'],
    ['Ready=True', makePod().build(), makeNode().ready().build(), 'Success'],
    ['Ready=False', makePod().build(), makeNode().notReady().build(), 'UnschedulableAndUnresolvable', ['node(s) were not ready']],
    ['Ready=False, tolerates not-ready', makePod().toleration({ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }).build(), makeNode().notReady().build(), 'Success'],
  ]);
});

describe('NodeName', () => {
  check(nodeName, [
    ['no nodeName', makePod().build(), makeNode('a').build(), 'Success'],
    ['same node', makePod().nodeName('a').build(), makeNode('a').build(), 'Success'],
    ['other node', makePod().nodeName('b').build(), makeNode('a').build(), 'UnschedulableAndUnresolvable', ["node(s) didn't match the requested node name"]],
  ]);
});

describe('TaintToleration', () => {
  const arm = () => makeNode().arch('arm64').taint('kubernetes.io/arch', 'arm64', 'NoSchedule');
  check(taintToleration, [
    ['no taints', makePod().build(), makeNode().build(), 'Success'],
    ['untolerated NoSchedule', makePod().build(), arm().build(), 'UnschedulableAndUnresolvable', ['node(s) had untolerated taint {kubernetes.io/arch: arm64}']],
    ['Equal with value', makePod().toleration({ key: 'kubernetes.io/arch', operator: 'Equal', value: 'arm64', effect: 'NoSchedule' }).build(), arm().build(), 'Success'],
    ['empty operator means Equal', makePod().toleration({ key: 'kubernetes.io/arch', value: 'arm64' }).build(), arm().build(), 'Success'],
    ['Equal with other value', makePod().toleration({ key: 'kubernetes.io/arch', operator: 'Equal', value: 'amd64' }).build(), arm().build(), 'UnschedulableAndUnresolvable'],
    ['Exists ignores the value', makePod().toleration({ key: 'kubernetes.io/arch', operator: 'Exists' }).build(), arm().build(), 'Success'],
    ['empty key + Exists tolerates everything', makePod().toleration({ operator: 'Exists' }).build(), arm().taint('gpu', 'true', 'NoExecute').build(), 'Success'],
    ['empty key + Equal: matched on value alone (API validation refuses it)', makePod().toleration({ value: 'arm64' }).build(), arm().build(), 'Success'],
    ['effect must match', makePod().toleration({ key: 'kubernetes.io/arch', operator: 'Exists', effect: 'NoExecute' }).build(), arm().build(), 'UnschedulableAndUnresolvable'],
    ['NoExecute also filters', makePod().build(), makeNode().taint('dedicated', 'db', 'NoExecute').build(), 'UnschedulableAndUnresolvable', ['node(s) had untolerated taint {dedicated: db}']],
    ['PreferNoSchedule does not filter', makePod().build(), makeNode().taint('spot', 'true', 'PreferNoSchedule').build(), 'Success'],
    ['taint without value prints empty', makePod().build(), makeNode().taint('dedicated', undefined, 'NoSchedule').build(), 'UnschedulableAndUnresolvable', ['node(s) had untolerated taint {dedicated: }']],
  ]);
});

describe('NodeAffinity', () => {
  const zoned = () => makeNode('n1').label('zone', 'a').label('cores', '16');
  const fail = 'UnschedulableAndUnresolvable' as const;
  check(nodeAffinity, [
    ['nodeSelector matches', makePod().nodeSelector({ zone: 'a' }).build(), zoned().build(), 'Success'],
    ['nodeSelector differs', makePod().nodeSelector({ zone: 'b' }).build(), zoned().build(), fail, ["node(s) didn't match Pod's node affinity/selector"]],
    ['nodeSelector label missing', makePod().nodeSelector({ disk: 'ssd' }).build(), zoned().build(), fail],
    ['In', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }).build(), zoned().build(), 'Success'],
    ['In, value absent', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] }).build(), zoned().build(), fail],
    ['NotIn', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }).build(), zoned().build(), fail],
    ['NotIn on a missing label matches', makePod().requiredTerms({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['hdd'] }] }).build(), zoned().build(), 'Success'],
    ['Exists', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }).build(), zoned().build(), 'Success'],
    ['DoesNotExist', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }).build(), zoned().build(), fail],
    // cores=16: 16 > 8 true, 16 < 8 false, a non-integer label never matches
    ['Gt', makePod().requiredTerms({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] }).build(), zoned().build(), 'Success'],
    ['Lt', makePod().requiredTerms({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['8'] }] }).build(), zoned().build(), fail],
    ['Gt on a non-integer label', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] }).build(), zoned().build(), fail],
    ['terms are ORed', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }).build(), zoned().build(), 'Success'],
    ['expressions in a term are ANDed', makePod().requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Lt', values: ['4'] }] }).build(), zoned().build(), fail],
    ['an empty term matches nothing', makePod().requiredTerms({}).build(), zoned().build(), fail],
    ['matchFields metadata.name In', makePod().requiredTerms({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }).build(), zoned().build(), 'Success'],
    ['matchFields metadata.name NotIn', makePod().requiredTerms({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }).build(), zoned().build(), fail],
    ['matchFields other field', makePod().requiredTerms({ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n1'] }] }).build(), zoned().build(), fail],
    ['selector and affinity must both match', makePod().nodeSelector({ zone: 'b' }).requiredTerms({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }).build(), zoned().build(), fail],
  ]);
});

describe('NodePorts', () => {
  const node = makeNode('n1').build();
  const holder = (port: number, protocol = 'TCP', ip?: string) => makePod('holder').hostPort(port, protocol, ip).nodeName('n1').build();
  it.each([
    ['free port', makePod().hostPort(80).build(), [holder(8080)], 'Success'],
    ['same port and protocol', makePod().hostPort(80).build(), [holder(80)], 'Unschedulable'],
    ['same port, other protocol', makePod().hostPort(53, 'UDP').build(), [holder(53, 'TCP')], 'Success'],
    ['0.0.0.0 conflicts with a specific IP', makePod().hostPort(80).build(), [holder(80, 'TCP', '10.0.0.1')], 'Unschedulable'],
    ['a specific IP conflicts with 0.0.0.0', makePod().hostPort(80, 'TCP', '10.0.0.2').build(), [holder(80)], 'Unschedulable'],
    ['different specific IPs do not conflict', makePod().hostPort(80, 'TCP', '10.0.0.2').build(), [holder(80, 'TCP', '10.0.0.1')], 'Success'],
  ] as [string, Pod, Pod[], Code][])('%s', (_n, pod, bound, code) => {
    const st = run(nodePorts, pod, node, bound);
    expect(st.code).toBe(code);
    if (code !== 'Success') expect(st.reasons).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
  });
});

describe('NodeResourcesFit', () => {
  // node: 4 cpu, 8Gi memory, 110 pods; a bound pod uses 3 cpu and 6Gi
  const node = makeNode('n1').allocatable({ cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1', pods: '3' }).build();
  const used = makePod('used').requests({ cpu: '3', memory: '6Gi' }).nodeName('n1').build();
  it.each([
    // 1 cpu free: 1000m <= 4000 - 3000 -> fits
    ['exactly the free cpu', makePod().requests({ cpu: '1' }).build(), [used], 'Success', []],
    // 1001m > 1000m free -> short; 1001m <= 4000m allocatable -> resolvable by preemption
    ['one millicore too many', makePod().requests({ cpu: '1001m' }).build(), [used], 'Unschedulable', ['Insufficient cpu']],
    // 3Gi > 8Gi - 6Gi = 2Gi
    ['memory short', makePod().requests({ memory: '3Gi' }).build(), [used], 'Unschedulable', ['Insufficient memory']],
    ['both short: two reasons', makePod().requests({ cpu: '2', memory: '3Gi' }).build(), [used], 'Unschedulable', ['Insufficient cpu', 'Insufficient memory']],
    // 5 cpu > 4 allocatable: no eviction helps
    ['more than the node has', makePod().requests({ cpu: '5' }).build(), [], 'UnschedulableAndUnresolvable', ['Insufficient cpu']],
    ['extended resource present', makePod().requests({ 'nvidia.com/gpu': '1' }).build(), [], 'Success', []],
    ['extended resource absent on node', makePod().requests({ 'example.com/fpga': '1' }).build(), [], 'UnschedulableAndUnresolvable', ['Insufficient example.com/fpga']],
    ['ephemeral-storage', makePod().requests({ 'ephemeral-storage': '200Gi' }).build(), [], 'UnschedulableAndUnresolvable', ['Insufficient ephemeral-storage']],
    // pods: 3 allowed, 3 bound -> the 4th is one too many, even with no requests
    ['too many pods', makePod().build(), [used, makePod('b').nodeName('n1').build(), makePod('c').nodeName('n1').build()], 'Unschedulable', ['Too many pods']],
    // init container 2 cpu dominates: max(500m, 2000m) = 2000m > 1000m free
    ['init container counts', makePod().init('migrate:1').requests({ cpu: '2' }).image('app:1').requests({ cpu: '500m' }).build(), [used], 'Unschedulable', ['Insufficient cpu']],
  ] as [string, Pod, Pod[], Code, string[]][])('%s', (_n, pod, bound, code, reasons) => {
    const st = run(resourcesFit, pod, node, bound);
    expect(st.code).toBe(code);
    expect(st.reasons).toEqual(reasons);
  });
});

describe('NodePlatform', () => {
  const images = makeImages({
    'shop/web:1': ['linux/amd64', 'linux/arm64'],
    'shop/legacy:1': ['linux/amd64'],
    'shop/armv6:1': ['linux/arm/v6'],
    'shop/v3:1': ['linux/amd64/v3'],
  });
  it.each([
    ['multi-arch image on arm64', makePod().image('shop/web:1').build(), makeNode().arch('arm64').build(), 'Success'],
    ['amd64-only image on arm64', makePod().image('shop/legacy:1').build(), makeNode().arch('arm64').build(), 'UnschedulableAndUnresolvable'],
    ['arm/v6 image on an arm/v7 node', makePod().image('shop/armv6:1').build(), makeNode().arch('arm').variant('v7').build(), 'Success'],
    ['amd64/v3 image on a baseline amd64 node', makePod().image('shop/v3:1').build(), makeNode().arch('amd64').build(), 'UnschedulableAndUnresolvable'],
    ['amd64/v3 image on an x86-64-v3 node', makePod().image('shop/v3:1').build(), makeNode().arch('amd64').variant('v3').build(), 'Success'],
    ['node known only by nodeInfo', makePod().image('shop/legacy:1').build(), makeNode().nodeInfoOnly('x86_64').build(), 'Success'],
    ['init container image counts too', makePod().init('shop/legacy:1').image('shop/web:1').build(), makeNode().arch('arm64').build(), 'UnschedulableAndUnresolvable'],
  ] as [string, Pod, Node, Code][])('%s', (_n, pod, node, code) => {
    expect(run(nodePlatformPlugin, pod, node, [], images).code).toBe(code);
  });

  it('names the image and its platforms', () => {
    const st = run(nodePlatformPlugin, makePod().image('shop/legacy:1').build(), makeNode().arch('arm64').build(), [], images);
    expect(st.reasons).toEqual(["node(s) can't run any platform of image shop/legacy:1 (has linux/amd64)"]);
  });

  it('a node without any platform is refused with a reason', () => {
    const node = makeNode().build();
    const bare: Node = { ...node, metadata: { name: 'bare', labels: {} }, status: { allocatable: { cpu: '1' } } };
    expect(run(nodePlatformPlugin, makePod().image('shop/web:1').build(), bare, [], images).reasons).toEqual(['node(s) had no known platform']);
  });
});
