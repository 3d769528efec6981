/** makePod('web').image('shop/web:1.4').requests({ cpu: '500m' }).toleration({...}).build() */

import type {
  Container, ContainerPort, NodeSelectorTerm, Pod, ResourceList, Toleration,
} from '../../src/core/k8s/types.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class PodBuilder {
  private containers: Mutable<Container>[] = [];
  private inits: Mutable<Container>[] = [];
  private tolerations: Toleration[] = [];
  private selector: Record<string, string> | undefined;
  private required: NodeSelectorTerm[] | undefined;
  private prefs: { weight: number; preference: NodeSelectorTerm }[] = [];
  private node: string | undefined;
  private prio: number | undefined;
  private prioClass: string | undefined;
  private over: ResourceList | undefined;
  private annotations: Record<string, string> = {};
  private namespace = 'default';
  private created: string | undefined;
  private last: Mutable<Container> | undefined;

  constructor(private readonly name: string) {}

  ns(n: string): this {
    this.namespace = n;
    return this;
  }

  /** Adds an app container (name c0, c1, ... unless given). */
  image(image: string, name?: string): this {
    this.last = { name: name ?? `c${this.containers.length}`, image };
    this.containers.push(this.last);
    return this;
  }

  /** Adds an init container; `sidecar` makes it restartPolicy: Always. */
  init(image: string, name?: string, sidecar = false): this {
    this.last = { name: name ?? `init${this.inits.length}`, image, ...(sidecar ? { restartPolicy: 'Always' } : {}) };
    this.inits.push(this.last);
    return this;
  }

  /** Requests of the container added last (an app container `app` of image busybox if none yet). */
  requests(r: ResourceList): this {
    const c = this.current();
    c.resources = { ...(c.resources ?? {}), requests: r };
    return this;
  }

  limits(r: ResourceList): this {
    const c = this.current();
    c.resources = { ...(c.resources ?? {}), limits: r };
    return this;
  }

  hostPort(port: number, protocol = 'TCP', hostIP?: string): this {
    const c = this.current();
    const p: ContainerPort = { containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) };
    c.ports = [...(c.ports ?? []), p];
    return this;
  }

  toleration(t: Toleration): this {
    this.tolerations.push(t);
    return this;
  }

  nodeSelector(s: Record<string, string>): this {
    this.selector = { ...(this.selector ?? {}), ...s };
    return this;
  }

  requiredTerms(...terms: NodeSelectorTerm[]): this {
    this.required = terms;
    return this;
  }

  preferred(weight: number, preference: NodeSelectorTerm): this {
    this.prefs.push({ weight, preference });
    return this;
  }

  nodeName(n: string): this {
    this.node = n;
    return this;
  }

  priority(p: number): this {
    this.prio = p;
    return this;
  }

  priorityClass(name: string): this {
    this.prioClass = name;
    return this;
  }

  overhead(r: ResourceList): this {
    this.over = r;
    return this;
  }

  annotation(k: string, v: string): this {
    this.annotations[k] = v;
    return this;
  }

  createdAt(ts: string): this {
    this.created = ts;
    return this;
  }

  private current(): Mutable<Container> {
    if (!this.last) this.image('busybox:1.36', 'app');
    return this.last as Mutable<Container>;
  }

  build(): Pod {
    if (this.containers.length === 0) this.image('busybox:1.36', 'app');
    const affinity = this.required || this.prefs.length
      ? {
          nodeAffinity: {
            ...(this.required ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: this.required } } : {}),
            ...(this.prefs.length ? { preferredDuringSchedulingIgnoredDuringExecution: this.prefs } : {}),
          },
        }
      : undefined;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(Object.keys(this.annotations).length ? { annotations: { ...this.annotations } } : {}),
        ...(this.created ? { creationTimestamp: this.created } : {}),
      },
      spec: {
        containers: this.containers.map((c) => ({ ...c })),
        ...(this.inits.length ? { initContainers: this.inits.map((c) => ({ ...c })) } : {}),
        ...(this.tolerations.length ? { tolerations: [...this.tolerations] } : {}),
        ...(this.selector ? { nodeSelector: this.selector } : {}),
        ...(affinity ? { affinity } : {}),
        ...(this.node ? { nodeName: this.node } : {}),
        ...(this.prio !== undefined ? { priority: this.prio } : {}),
        ...(this.prioClass ? { priorityClassName: this.prioClass } : {}),
        ...(this.over ? { overhead: this.over } : {}),
      },
    };
  }
}

export const makePod = (name = 'pod-1'): PodBuilder => new PodBuilder(name);
