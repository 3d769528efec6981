export * from './window.ts';
export * from './forecaster.ts';
export * from './dma.ts';
export * from './baselines.ts';
export * from './resample.ts';
export * from './evaluate.ts';
export * from './standard.ts';
export * from './trace-evaluation.ts';
