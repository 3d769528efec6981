/** makeNode('n1').arch('arm64').allocatable({ cpu: '4' }).taint('k', 'v', 'NoSchedule').build() */

import type { ContainerImage, Node, NodeCondition, ResourceList, Taint } from '../../src/core/k8s/types.ts';

export class NodeBuilder {
  private labels: Record<string, string>;
  private taints: Taint[] = [];
  private alloc: Record<string, string | number> = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  private conditions: NodeCondition[] | undefined;
  private images: ContainerImage[] = [];
  private cordoned = false;
  private nodeInfoArch: string | undefined;

  constructor(private readonly name: string) {
    this.labels = { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name };
  }

  arch(a: string): this {
    this.labels['kubernetes.io/arch'] = a;
    return this;
  }

  /** Only status.nodeInfo.architecture, no label (an old or hand-written node). */
  nodeInfoOnly(a: string): this {
    delete this.labels['kubernetes.io/arch'];
    this.nodeInfoArch = a;
    return this;
  }

  os(o: string): this {
    this.labels['kubernetes.io/os'] = o;
    return this;
  }

  variant(v: string): this {
    this.labels['polyarch.io/arch-variant'] = v;
    return this;
  }

  label(k: string, v: string): this {
    this.labels[k] = v;
    return this;
  }

  /** Replaces the default allocatable entries given (default cpu 4, memory 8Gi, pods 110, ephemeral-storage 100Gi). */
  allocatable(r: ResourceList): this {
    this.alloc = { ...this.alloc, ...r };
    return this;
  }

  taint(key: string, value: string | undefined, effect: string): this {
    this.taints.push({ key, ...(value === undefined ? {} : { value }), effect });
    return this;
  }

  unschedulable(): this {
    this.cordoned = true;
    return this;
  }

  notReady(): this {
    this.conditions = [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }];
    return this;
  }

  ready(): this {
    this.conditions = [{ type: 'Ready', status: 'True' }];
    return this;
  }

  image(names: string[], sizeBytes: number): this {
    this.images.push({ names, sizeBytes });
    return this;
  }

  build(): Node {
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.name, labels: { ...this.labels } },
      spec: { ...(this.cordoned ? { unschedulable: true } : {}), ...(this.taints.length ? { taints: [...this.taints] } : {}) },
      status: {
        allocatable: { ...this.alloc },
        capacity: { ...this.alloc },
        ...(this.conditions ? { conditions: this.conditions } : {}),
        ...(this.images.length ? { images: this.images } : {}),
        nodeInfo: { architecture: this.nodeInfoArch ?? this.labels['kubernetes.io/arch'] ?? '', operatingSystem: this.labels['kubernetes.io/os'] ?? 'linux' },
      },
    };
  }
}

export const makeNode = (name = 'node-1'): NodeBuilder => new NodeBuilder(name);
