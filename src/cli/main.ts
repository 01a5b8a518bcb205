/**
 * The `foldsync` command. Each group of subcommands lives in its own file and registers itself
 * on the program here.
 */
import { Command, CommanderError } from 'commander';
import { isFoldsyncError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { releasePrestarted } from '../embedded-start.js';
import { registerCloudCommands } from './cloud-commands.js';
import { registerDetailsCommands } from './details-commands.js';
import { registerEngineCommands } from './engine-commands.js';
import { registerLogCommands } from './log-commands.js';
import { registerRemoteCommands } from './remote-commands.js';

/** The exit code a command asked for (`run --once` reports 1 when files failed). */
let exitCode = 0;

/** Builds the command tree. Exposed for tests that drive the CLI in-process. */
export function createProgram(): Command {
  const program = new Command('foldsync')
    .description('Keep a local folder and a cloud folder in step: two-way sync or one-way upload.')
    .version(VERSION)
    .option('--data <dir>', 'the engine data folder (default: $FOLDSYNC_HOME or ~/.foldsync)')
    .showHelpAfterError()
    .exitOverride();

  registerEngineCommands(program, (code) => {
    exitCode = code;
  });
  registerDetailsCommands(program);
  registerLogCommands(program, (code) => {
    exitCode = code;
  });
  registerCloudCommands(program);
  registerRemoteCommands(program);

  return program;
}

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    exitCode = 0;
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isFoldsyncError(error)) {
      process.stderr.write(`foldsync: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    // An embedded cloud bin/foldsync.js started early that this command did not use.
    await releasePrestarted();
  }
}
