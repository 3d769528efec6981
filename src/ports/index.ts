export * from './clock.ts';
export * from './image-resolver.ts';
