export * from './annotations.ts';
export * from './node-selector.ts';
export * from './priority.ts';
export * from './quantity.ts';
export * from './resources.ts';
export * from './taints.ts';
export * from './types.ts';
export * from './workloads.ts';
