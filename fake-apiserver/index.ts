/** The fake kube-apiserver for tests: see server.ts for usage and README.md for what it models. */
export { FakeApiServer } from './server.ts';
export type { FakeApiServerOptions } from './server.ts';
export { ManualClock, systemClock } from './clock.ts';
export { deny } from './admission.ts';
export type { AdmissionPlugin, AdmissionRequest, Operation } from './admission.ts';
export type { ControllerSwitches } from './controllers.ts';
export { ApiError } from './status.ts';
export type { StatusBody } from './status.ts';
export { BUILTIN_RESOURCES, customResource } from './resources.ts';
export type { ResourceDef } from './resources.ts';
export { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts';
export type { KubeObject } from './types.ts';
