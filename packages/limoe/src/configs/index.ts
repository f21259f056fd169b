export * from './model_config_error.js';
export * from './model_config_file.js';
export * from './model_configs.js';
