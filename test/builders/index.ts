export * from './image.ts';
export * from './node.ts';
export * from './pod.ts';
