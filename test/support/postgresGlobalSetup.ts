import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embeddedPostgres.js';

/**
 * vitest globalSetup: one PostgreSQL server for the whole `vitest run`, its admin URL provided to
 * test files as `inject('postgresAdminUrl')`. The returned teardown stops it and removes its data
 * directory, also when tests fail.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startEmbeddedPostgres();
  project.provide('postgresAdminUrl', server.url);
  return server.stop;
}
