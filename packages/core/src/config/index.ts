export * from './config_reader.js';
export * from './describe_value.js';
export * from './integer_checks.js';
