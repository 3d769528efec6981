export * from './affinity.ts';
export * from './json-patch.ts';
export * from './platforms.ts';
export * from './pod.ts';
