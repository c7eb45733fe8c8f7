export type { CommitResult, Store, WakeCursor } from './store.js';
export * from './types.js';
