/**
 * The autoscaler's side of the node probe's POST /reclaim: proactive memory reclaim of a
 * pod on its node (cgroup v2 memory.reclaim) before its memory limit is lowered.
 */
import { z } from 'zod';
import type { NodeReclaimer, NodeReclaimResult } from '../../ports/scaling-policy.ts';

const answer = z.union([
  z.object({ ok: z.literal(true), before: z.number(), after: z.number() }).loose(),
  z.object({ ok: z.literal(false), kind: z.string(), message: z.string() }).loose(),
]);

export interface HttpReclaimerOptions {
  /** Base URL of the probe on a node (e.g. http://<InternalIP>:9477); undefined when the node has none. */
  readonly endpointOf: (node: string) => string | undefined | Promise<string | undefined>;
  /** Bearer token the probes require ($POLYARCH_PROBE_TOKEN). */
  readonly token?: string;
  readonly timeoutMs?: number;
}

export class HttpNodeReclaimer implements NodeReclaimer {
  constructor(private readonly opts: HttpReclaimerOptions) {}

  async reclaim(node: string, request: { podUid: string; container?: string; bytes: number }): Promise<NodeReclaimResult> {
    const base = await this.opts.endpointOf(node);
    if (!base) return { ok: false, kind: 'no-probe', message: `no probe endpoint for node ${node}` };
    const url = `${base.replace(/\/+$/, '')}/reclaim`;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      const parsed = answer.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success) return { ok: false, kind: 'error', message: `${url}: HTTP ${res.status} with an answer that is not a reclaim result` };
      const a = parsed.data;
      return a.ok ? { ok: true, before: a.before, after: a.after } : { ok: false, kind: a.kind, message: a.message };
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: `${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}` };
    }
  }
}
