/**
 * POST /mutate-pods: AdmissionReview v1 in, AdmissionReview v1 out, on every path.
 * Protocol errors (wrong content type, body over the limit, not an AdmissionReview) are
 * answered with a non-200 status, so kube-apiserver counts the call as failed and the
 * webhook's failurePolicy decides; an object polyarch cannot read is admitted untouched
 * (the API server's own validation will judge it).
 */
import { admitPod, type AdmissionOptions } from '../app/admission.ts';
import type { JsonRoute, Refusal, Reply } from './http-server.ts';
import type { Logger } from './logger.ts';
import type { ServerMetrics } from './metrics.ts';
import { admissionReviewSchema, describeIssues, podSchema } from './schemas.ts';
import type { PodLike } from '../core/admission/pod.ts';

export const WEBHOOK_PATH = '/mutate-pods';

interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string };
}

function review(apiVersion: string, response: AdmissionResponse): { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse } {
  return { apiVersion, kind: 'AdmissionReview', response };
}

/** The uid of a body that failed validation, when it can be read, so the caller can still match the answer. */
function uidOf(body: unknown): string {
  const r = (body as { request?: { uid?: unknown } } | null)?.request;
  return typeof r?.uid === 'string' ? r.uid : '';
}

function errored(refusal: Refusal, uid = ''): Reply {
  return { status: refusal.status, body: review('admission.k8s.io/v1', { uid, allowed: false, status: { code: refusal.status, message: refusal.message } }) };
}

export function webhookRoute(options: AdmissionOptions, metrics: ServerMetrics, log: Logger): JsonRoute {
  return {
    path: WEBHOOK_PATH,
    name: 'webhook',
    refuse: (refusal) => {
      metrics.admissionReviews.inc({ outcome: 'error' });
      return errored(refusal);
    },
    handle: async (body) => {
      const parsed = admissionReviewSchema.safeParse(body);
      if (!parsed.success) {
        metrics.admissionReviews.inc({ outcome: 'error' });
        return errored({ status: 400, message: `not an AdmissionReview: ${describeIssues(parsed.error)}` }, uidOf(body));
      }
      const { apiVersion, request } = parsed.data;
      const allow = (outcome: string, warnings: string[] = []): Reply => {
        metrics.admissionReviews.inc({ outcome });
        return { status: 200, body: review(apiVersion, { uid: request.uid, allowed: true, ...(warnings.length ? { warnings } : {}) }) };
      };
      const k = request.kind;
      if (k.group !== '' || k.version !== 'v1' || k.kind !== 'Pod' || request.operation !== 'CREATE' || (request.subResource ?? '') !== '') {
        return allow('ignored');
      }
      const pod = podSchema.safeParse(request.object);
      if (!pod.success) {
        log.warn({ uid: request.uid, problem: describeIssues(pod.error) }, 'admitting a pod polyarch cannot read');
        return allow('unreadable', [`polyarch: pod not inspected: ${describeIssues(pod.error)}`]);
      }
      const namespace = request.namespace ?? pod.data.metadata?.namespace ?? 'default';
      const decision = admitPod(pod.data as PodLike, namespace, options);
      metrics.admissionReviews.inc({ outcome: decision.outcome });
      log.debug({ uid: request.uid, namespace, outcome: decision.outcome, reason: decision.reason }, 'admission');
      const response: AdmissionResponse = { uid: request.uid, allowed: true };
      if (decision.patch.length > 0) {
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
      }
      if (decision.warnings.length > 0) response.warnings = [...decision.warnings];
      return { status: 200, body: review(apiVersion, response) };
    },
  };
}
