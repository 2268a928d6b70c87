export * from './errors.js';
export * from './formats.js';
export * from './settings.js';
export * from './methods.js';
export * from './launch.js';
export * from './csv.js';
export * from './curation.js';
export * from './curation-methods.js';
