import path from 'node:path';
import type { Command } from 'commander';
import { databaseUrlOption, dbOption } from '../options.js';

interface MigrateOptions {
  db: string;
  databaseUrl?: string;
}

/** What either store's migration reports, as far as this command needs. */
interface MigrationReport {
  where: string;
  applied: ReadonlyArray<{ name: string }>;
  version: number;
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Create or upgrade the database schema, say what was applied, then exit')
    .addOption(dbOption())
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      '\nMigrates the PostgreSQL database given by --database-url (BRAID_DATABASE_URL), else the SQLite file\n' +
        '(created, with its directory, when missing). Prints the migrations it applied, or that the schema\n' +
        'was up to date. Safe to run at any time, also beside running workers or `braid dev`: applied\n' +
        'migrations are skipped, and several `braid migrate` at once against one PostgreSQL database apply\n' +
        'each migration once.',
    )
    .action(async (options: MigrateOptions) => {
      if (options.databaseUrl) {
        // Loaded only when asked for, so SQLite users never load pg.
        const { migrateDatabase } = await import('../../store/postgres/migrate.js');
        printReport(await migrateDatabase(options.databaseUrl));
        return;
      }
      const { migrateFile } = await import('../../store/sqlite/migrate.js');
      const report = migrateFile(options.db);
      if (report.isNew) console.log(`Created the SQLite database ${path.resolve(options.db)}.`);
      printReport(report);
    });
}

function printReport({ where, applied, version }: MigrationReport): void {
  if (applied.length === 0) {
    console.log(`Schema is up to date at version ${version} (${where}): no migration to apply.`);
  } else {
    console.log(`Applied ${applied.map((m) => m.name).join(', ')}: the schema is at version ${version} (${where}).`);
  }
}
