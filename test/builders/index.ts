export * from './image.ts';
export * from './node.ts';
export * from './pod.ts';
export * from './cycle.ts';
