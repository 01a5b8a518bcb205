/**
 * The `foldsync` command. Each group of subcommands lives in its own file and registers itself
 * on the program here.
 */
import { Command, CommanderError } from 'commander';
import { isFoldsyncError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { registerCloudCommands } from './cloud-commands.js';
import { registerRemoteCommands } from './remote-commands.js';

/** Builds the command tree. Exposed for tests that drive the CLI in-process. */
export function createProgram(): Command {
  const program = new Command('foldsync')
    .description('Keep a local folder and a cloud folder in step: two-way sync or one-way upload.')
    .version(VERSION)
    .option('--data <dir>', 'the engine data folder (default: $FOLDSYNC_HOME or ~/.foldsync)')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('sync')
    .description('sync FOLDER two-way with personal:/<folder name> on the embedded cloud')
    .argument('<folder>', 'the local folder to keep in sync')
    .action((folder: string) => {
      throw new NotYetError(
        `syncing ${folder} needs the engine (issue 6), which has not landed yet; ` +
          'today foldsync ships its event log, and the sync engine arrives with later work.',
      );
    });

  registerCloudCommands(program);
  registerRemoteCommands(program);

  return program;
}

class NotYetError extends Error {
  readonly code = 'not-yet';
}

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isFoldsyncError(error) || error instanceof NotYetError) {
      process.stderr.write(`foldsync: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
