/**
 * The library behind `zero-shot eval`: evaluation sources (image folders, in-memory grayscale sets),
 * a cached classifier, batched and resumable evaluation that keeps predictions rather than logits,
 * class-balanced sampling and shards, merging, and result/CSV files.
 */
export * from './classifier_cache.js';
export * from './eval_error.js';
export * from './eval_options.js';
export * from './eval_result.js';
export type * from './eval_source.js';
export * from './fingerprint.js';
export * from './grayscale_source.js';
export * from './image_dataset_source.js';
export * from './merge.js';
export * from './predictions_csv.js';
export * from './prepare_classifier.js';
export * from './result_files.js';
export * from './run_eval.js';
export * from './sampling.js';
export * from './work_dir.js';
export * from './prompt_check.js';
export * from './zero_shot_pipeline.js';
export * from './retrieval_metrics.js';
