export * from './common';
export * from './errors';
export * from './events';
export * from './permissions';
export * from './users';
