/**
 * The admission chain: the extension point for mutating webhooks (and anything else that
 * must see or change a write before it is stored), modelled on kube-apiserver's order
 * (https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/):
 * mutating plugins in registration order, then the object's validation, then validating
 * plugins. A plugin denies by throwing an ApiError (see `deny`).
 *
 *   server.admission.register({ name: 'polyarch-webhook', mutate: async (req) => ({ ...req.object, ... }) });
 */
import type { ResourceDef } from './resources.ts';
import type { KubeObject } from './types.ts';
import { ApiError } from './status.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What an AdmissionReview's request carries, in the server's own terms. */
export interface AdmissionRequest {
  uid: string;
  operation: Operation;
  resource: ResourceDef;
  subResource: string; // '' for the main resource, 'binding', 'eviction', 'status', 'resize'
  namespace: string;
  name: string;
  /** The object being written (absent on DELETE). Mutating plugins return a changed copy. */
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  name: string;
  /** Returns the object to store instead (or nothing to keep it). May be async (webhooks are HTTP calls). */
  mutate?: (req: AdmissionRequest) => KubeObject | void | Promise<KubeObject | void>;
  validate?: (req: AdmissionRequest) => void | Promise<void>;
}

/** The error a webhook denial produces: `admission webhook "NAME" denied the request: MESSAGE`, 403 by default. */
export const deny = (plugin: string, message: string, code = 403): ApiError =>
  new ApiError(code, code === 403 ? 'Forbidden' : '', `admission webhook "${plugin}" denied the request: ${message}`);

export class AdmissionChain {
  private plugins: AdmissionPlugin[] = [];

  register(plugin: AdmissionPlugin): () => void {
    this.plugins.push(plugin);
    return () => { this.plugins = this.plugins.filter((p) => p !== plugin); };
  }

  async mutate(req: AdmissionRequest): Promise<KubeObject | undefined> {
    let obj = req.object;
    for (const p of this.plugins) {
      if (!p.mutate) continue;
      const out = await p.mutate({ ...req, ...(obj ? { object: structuredClone(obj) } : {}) });
      if (out) obj = out;
    }
    return obj;
  }

  async validate(req: AdmissionRequest): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(req);
  }
}
