import type { Command } from 'commander';
import { databaseUrlOption, dbOption } from '../options.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Create or upgrade the database schema, then exit')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      '\nMigrates the PostgreSQL database given by --database-url (BRAID_DATABASE_URL), else the SQLite file.\n' +
        'Safe to run at any time, also beside running workers or `braid dev`: applied migrations are skipped,\n' +
        'and several `braid migrate` at once against one PostgreSQL database apply each migration once.',
    )
    .action(async (options: { db: string; databaseUrl?: string }) => {
      const store = options.databaseUrl
        ? // Loaded only when asked for, so SQLite users never load pg.
          new (await import('../../store/postgres/index.js')).PostgresStore({
            connectionString: options.databaseUrl,
            poolSize: 1,
            applicationName: 'braid migrate',
          })
        : new (await import('../../index.js')).SqliteStore({ path: options.db });
      await store.open();
      await store.close();
      console.log(`Schema is up to date (${store.description}).`);
    });
}
