export { MemoryStore } from './memory/memoryStore.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqliteStore.js';
export type { CommitResult, Store } from './store.js';
export * from './types.js';
