export * from './limits.ts';
export * from './node-selector.ts';
export * from './quantity.ts';
export * from './resources.ts';
export * from './taints.ts';
export * from './types.ts';
export * from './workloads.ts';
