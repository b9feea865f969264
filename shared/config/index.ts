export * from './kinds/index';
export * from './load';
export * from './match';
export * from './restore-testing';
export * from './schema';
export * from './yaml';
