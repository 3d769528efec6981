export * from './clock.ts';
export * from './image-resolver.ts';
export * from './pod-json-patch.ts';
export * from './pod-info.ts';
export * from './node-probe.ts';
