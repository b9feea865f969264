export * from './kinds/index';
export * from './load';
export * from './match';
export * from './schema';
export * from './yaml';
