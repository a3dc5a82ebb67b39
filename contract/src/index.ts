export * from './common';
export * from './conversations';
export * from './errors';
export * from './events';
export * from './line-settings';
export * from './permissions';
export * from './users';
export * from './widget';
