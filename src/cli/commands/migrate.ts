import type { Command } from 'commander';
import { dbOption } from '../options.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Create or upgrade the database schema, then exit')
    .addOption(dbOption())
    .addHelpText(
      'after',
      '\nSafe to run at any time, also beside a running `braid dev`: applied migrations are skipped.',
    )
    .action(async (options: { db: string }) => {
      const { SqliteStore } = await import('../../index.js');
      const store = new SqliteStore({ path: options.db });
      await store.open();
      await store.close();
      console.log(`Schema is up to date (${store.description}).`);
    });
}
