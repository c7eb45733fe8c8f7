import { Command, InvalidArgumentError, Option } from 'commander';
import { BraidError } from '../model/errors.js';
import { openStoreFromOptions } from './openStore.js';
import { registerReadCommands } from './readCommands.js';

const program = new Command()
  .name('braid')
  .description('Braid: durable workflows for TypeScript. Inspect and steer runs.')
  .version('0.1.0')
  .addOption(new Option('--db <path>', 'SQLite database file').env('BRAID_DB').default('.braid/braid.db'))
  .showHelpAfterError();

program
  .command('migrate')
  .description('Create or upgrade the database schema, then exit')
  .action(async () => {
    const store = await openStoreFromOptions(program.opts());
    console.log(`Schema is up to date (${store.description}).`);
    await store.close();
  });

registerReadCommands(program);

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Typed errors carry a message that says what to do; anything else is a bug worth a stack.
  if (error instanceof BraidError) {
    console.error(`braid: ${error.message}`);
    process.exitCode = error.code === 'run_not_found' ? 4 : 1;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
}
