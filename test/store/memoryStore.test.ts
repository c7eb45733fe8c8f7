import { MemoryStore } from '../../src/store/memory/memoryStore.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
