import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './cli/admin.js';
import { registerCoreCommands } from './cli/core.js';
import { errorCode, errorMessage } from './errors.js';

/**
 * `rentlink`: the command line. Results go to stdout (tables, or JSON/CSV with --format), logs to stderr.
 * Exit codes: 0 ok, 1 error, 2 bad input (nothing changed), 3 work left when --max-wait ran out.
 */
const program = new Command('rentlink')
  .description('Collect monthly rent through payment links (MyFatoorah; built-in sandbox when no token is set)')
  .showHelpAfterError()
  .exitOverride();

registerCoreCommands(program);
registerAdminCommands(program);

try {
  await program.parseAsync(process.argv);
  // Every command has finished its work here (`start` and `sandbox` return only after shutdown), so a
  // library's lingering timer or socket must not keep the process alive.
  process.exit(process.exitCode ?? 0);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`rentlink: ${errorMessage(err)} [${errorCode(err)}]\n`);
  // Exit 2: the input was wrong and nothing changed (as for a bad import); 1 for everything else.
  process.exit(['INVALID_INPUT', 'IMPORT_INVALID', 'CONFIG_INVALID'].includes(errorCode(err)) ? 2 : 1);
}
