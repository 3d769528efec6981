import type { ReclaimRequest, ReclaimResult, WindowsReport } from '../core/probe/report.ts';

/**
 * The node probe as the HTTP server (and, through it, the autoscaler) sees it: the usage
 * windows of the pods on one node, and proactive memory reclaim.
 */
export interface NodeProbe {
  windows(): WindowsReport;
  reclaim(request: ReclaimRequest): ReclaimResult;
  /** Healthy once a sample has been taken within the last few intervals. */
  health(): { readonly ok: boolean; readonly message: string };
}
