export * from './parse.ts';
export * from './read.ts';
