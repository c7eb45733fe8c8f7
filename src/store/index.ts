export type { CommitResult, Store } from './store.js';
export * from './types.js';
