export * from './reference.ts';
export * from './types.ts';
export * from './manifest.ts';
export * from './convention.ts';
