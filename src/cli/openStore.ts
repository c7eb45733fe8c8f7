import { SqliteStore } from '../store/sqlite/sqliteStore.js';
import type { Store } from '../store/store.js';

/** Opens the store the global options name (applying migrations). */
export async function openStoreFromOptions(options: { db?: string }): Promise<Store> {
  const store = new SqliteStore({ path: options.db ?? '.braid/braid.db' });
  await store.open();
  return store;
}
