export * from './types.ts';
export * from './score.ts';
export * from './plan.ts';
