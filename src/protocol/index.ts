export * from './types.js';
export * from './errors.js';
export * from './identifiers.js';
export * from './values.js';
export * from './validate.js';
export * from './decode.js';
