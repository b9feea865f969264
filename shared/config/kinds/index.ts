/** Importing this module registers every built-in check kind. */
export * from './common';
export * from './filesystem';
export * from './instances';
export * from './lambda';
export * from './objects';
export * from './registry';
export * from './sql';
