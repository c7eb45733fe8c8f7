export { CONTROL_CHANNEL, decodeIds, encodeIds, READY_CHANNEL, SETTLED_CHANNEL, SLOTS_CHANNEL } from './channels.js';
export { PostgresStore, type PostgresStoreOptions } from './postgresStore.js';
