import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './cli/admin.js';
import { registerCoreCommands } from './cli/core.js';
import { errorCode, errorMessage } from './errors.js';

/**
 * `rentlink`: the command line. Results go to stdout (tables, or JSON/CSV with --format), logs to stderr.
 * Exit codes (README): 0 ok; 2 bad input, nothing changed (a bad option, setting, file or unknown id);
 * 3 work left when --max-wait ran out; 1 anything else (a refused action, Redis unreachable, …).
 */
const program = new Command('rentlink')
  .description(
    'Collect monthly rent through payment links (MyFatoorah, Amazon Payment Services, paymennt; a built-in sandbox when no credentials are set)',
  )
  .configureOutput({ outputError: (message, write) => write(commanderErrorLine(message)) })
  .showHelpAfterError()
  .exitOverride();

registerCoreCommands(program);
registerAdminCommands(program);

/** Error codes that mean "the input was wrong and nothing changed": exit 2. */
const BAD_INPUT_CODES = ['INVALID_INPUT', 'IMPORT_INVALID', 'CONFIG_INVALID', 'NOT_FOUND'];

try {
  await program.parseAsync(process.argv);
  // Every command has finished its work here (`start` and `sandbox` return only after shutdown), so a
  // library's lingering timer or socket must not keep the process alive.
  process.exit(process.exitCode ?? 0);
} catch (err) {
  // Commander's own refusals (unknown command or option, bad option value, missing argument) are bad
  // input; --help and --version are not errors.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`rentlink: ${errorMessage(err)} [${errorCode(err)}]\n`);
  process.exit(BAD_INPUT_CODES.includes(errorCode(err)) ? 2 : 1);
}

/** Commander's "error: …" in rentlink's own shape: `rentlink: … [INVALID_INPUT]`. */
function commanderErrorLine(message: string): string {
  return `rentlink: ${message.replace(/^error: /, '').trimEnd()} [INVALID_INPUT]\n`;
}
