export * from './task_gate.js';
