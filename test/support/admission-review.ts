/**
 * AdmissionReview bodies as kube-apiserver sends them, and a strict check of what a
 * webhook must answer (k8s.io/api/admission/v1 AdmissionReview/AdmissionResponse).
 */
import fjp from 'fast-json-patch';
import { z } from 'zod';

let counter = 0;

export function admissionReview(object: unknown, opts: { namespace?: string; operation?: string; kind?: string; apiVersion?: string } = {}): Record<string, unknown> {
  const kind = opts.kind ?? 'Pod';
  return {
    apiVersion: opts.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `7c1e3f9a-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
      kind: { group: kind === 'Pod' ? '' : 'apps', version: 'v1', kind },
      resource: { group: kind === 'Pod' ? '' : 'apps', version: 'v1', resource: `${kind.toLowerCase()}s` },
      requestKind: { group: kind === 'Pod' ? '' : 'apps', version: 'v1', kind },
      requestResource: { group: kind === 'Pod' ? '' : 'apps', version: 'v1', resource: `${kind.toLowerCase()}s` },
      namespace: opts.namespace ?? 'default',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: 'b1', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

const patchOp = z.object({ op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']), path: z.string().regex(/^(\/([^/~]|~[01])*)*$/) }).loose();

/** What kube-apiserver accepts back: a response with the uid, `allowed`, and a base64 JSONPatch when patching. */
export const admissionReviewResponse = z.object({
  apiVersion: z.enum(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']),
  kind: z.literal('AdmissionReview'),
  response: z.object({
    uid: z.string(),
    allowed: z.boolean(),
    patchType: z.literal('JSONPatch').optional(),
    patch: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
    warnings: z.array(z.string()).optional(),
    status: z.object({ code: z.number().int(), message: z.string() }).optional(),
  }).strict().refine((r) => (r.patch === undefined) === (r.patchType === undefined), 'patch and patchType go together')
    .refine((r) => r.patch === undefined || z.array(patchOp).safeParse(JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8'))).success, 'patch is a JSON Patch'),
}).strict();

export type AdmissionReviewResponse = z.infer<typeof admissionReviewResponse>;

export function decodePatch(r: AdmissionReviewResponse): fjp.Operation[] {
  return r.response.patch ? (JSON.parse(Buffer.from(r.response.patch, 'base64').toString('utf8')) as fjp.Operation[]) : [];
}

/** Applies the response's patch as kube-apiserver does (validating each operation; any failure fails the whole request). */
export function applyResponse<T>(object: T, r: AdmissionReviewResponse): T {
  return fjp.applyPatch(structuredClone(object), decodePatch(r), true, false).newDocument;
}
