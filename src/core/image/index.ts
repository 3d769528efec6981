export * from './reference.ts';
export * from './types.ts';
