/**
 * The kube-scheduler extender protocol (k8s.io/kube-scheduler/extender/v1) over HTTP:
 * `<urlPrefix>/filter`, `/prioritize`, `/bind`. The Go types carry no json tags, so the
 * wire names are the Go field names (PascalCase), and every field is always present,
 * as encoding/json writes them.
 */
import type { Extender, ExtenderInput } from '../app/extender.ts';
import type { NodeLike } from '../app/placement-choice.ts';
import type { PodLike } from '../core/admission/pod.ts';
import type { JsonRoute, Refusal, Reply } from './http-server.ts';
import type { Logger } from '../ports/logger.ts';
import type { ServerMetrics } from './metrics.ts';
import { canonicalKeys, describeIssues, extenderArgsSchema, extenderBindingArgsSchema } from './schemas.ts';

export const EXTENDER_PREFIX = '/extender';

export interface ExtenderFilterResult {
  Nodes: { metadata: Record<string, never>; items: unknown[] } | null;
  NodeNames: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

export type HostPriorityList = { Host: string; Score: number }[];

export interface ExtenderBindingResult {
  Error: string;
}

function filterError(message: string, status = 200): Reply {
  const body: ExtenderFilterResult = { Nodes: null, NodeNames: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: message };
  return { status, body };
}

type Parsed = { ok: true; input: ExtenderInput } | { ok: false; message: string };

function parseArgs(body: unknown): Parsed {
  const parsed = extenderArgsSchema.safeParse(canonicalKeys(body, ['Pod', 'Nodes', 'NodeNames']));
  if (!parsed.success) return { ok: false, message: `ExtenderArgs: ${describeIssues(parsed.error)}` };
  const { Pod, Nodes, NodeNames } = parsed.data;
  // nodeCacheCapable extenders get NodeNames; otherwise Nodes (NodeList).
  if (NodeNames !== null && NodeNames !== undefined) return { ok: true, input: { pod: Pod as PodLike, nodeNames: NodeNames } };
  return { ok: true, input: { pod: Pod as PodLike, nodes: (Nodes?.items ?? []) as NodeLike[] } };
}

export function extenderRoutes(extender: Extender, metrics: ServerMetrics, log: Logger, prefix = EXTENDER_PREFIX): JsonRoute[] {
  const count = (verb: string, result: string): void => metrics.extenderRequests.inc({ verb, result });
  const filter: JsonRoute = {
    path: `${prefix}/filter`,
    name: 'extender_filter',
    refuse: (r: Refusal) => {
      count('filter', 'bad-request');
      return filterError(r.message, r.status);
    },
    handle: async (body, signal) => {
      const args = parseArgs(body);
      if (!args.ok) {
        count('filter', 'bad-request');
        return filterError(args.message, 400);
      }
      const a = await extender.filter(args.input, signal);
      count('filter', a.error ? 'error' : 'ok');
      if (a.error) log.warn({ verb: 'filter', error: a.error }, 'extender filter failed');
      const result: ExtenderFilterResult = {
        Nodes: a.nodes ? { metadata: {}, items: [...a.nodes] } : null,
        NodeNames: a.nodeNames ? [...a.nodeNames] : null,
        FailedNodes: { ...a.failed },
        FailedAndUnresolvableNodes: { ...a.unresolvable },
        Error: a.error,
      };
      return { status: 200, body: result };
    },
  };
  const prioritize: JsonRoute = {
    path: `${prefix}/prioritize`,
    name: 'extender_prioritize',
    // HostPriorityList has no error field: a non-200 status is how kube-scheduler learns of one (and then ignores these scores).
    refuse: (r: Refusal) => {
      count('prioritize', 'bad-request');
      return { status: r.status, body: [] satisfies HostPriorityList, headers: { 'x-polyarch-error': r.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) } };
    },
    handle: async (body, signal) => {
      const args = parseArgs(body);
      if (!args.ok) {
        count('prioritize', 'bad-request');
        return { status: 400, body: [] satisfies HostPriorityList, headers: { 'x-polyarch-error': args.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) } };
      }
      const r = await extender.prioritize(args.input, signal);
      count('prioritize', r.ok ? 'ok' : 'error');
      if (!r.ok) {
        log.warn({ verb: 'prioritize', error: r.error }, 'extender prioritize failed');
        return { status: 500, body: [] satisfies HostPriorityList, headers: { 'x-polyarch-error': r.error.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) } };
      }
      const list: HostPriorityList = r.value.map((h) => ({ Host: h.host, Score: h.score }));
      return { status: 200, body: list };
    },
  };
  const bind: JsonRoute = {
    path: `${prefix}/bind`,
    name: 'extender_bind',
    refuse: (r: Refusal) => {
      count('bind', 'bad-request');
      return { status: r.status, body: { Error: r.message } satisfies ExtenderBindingResult };
    },
    handle: async (body, signal) => {
      const parsed = extenderBindingArgsSchema.safeParse(canonicalKeys(body, ['PodName', 'PodNamespace', 'PodUID', 'Node']));
      if (!parsed.success) {
        count('bind', 'bad-request');
        return { status: 400, body: { Error: `ExtenderBindingArgs: ${describeIssues(parsed.error)}` } satisfies ExtenderBindingResult };
      }
      const a = parsed.data;
      const error = await extender.bind({ podName: a.PodName, podNamespace: a.PodNamespace, podUID: a.PodUID, node: a.Node }, signal);
      count('bind', error ? 'error' : 'ok');
      if (error) log.warn({ verb: 'bind', error }, 'extender bind failed');
      return { status: 200, body: { Error: error } satisfies ExtenderBindingResult };
    },
  };
  return [filter, prioritize, bind];
}
