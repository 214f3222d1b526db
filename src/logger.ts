import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger };

/** The two shapes a log line takes: JSON for machines, a human line for a terminal. */
export type LogFormat = 'json' | 'pretty';

/**
 * Structured logs (JSON lines unless `destination` formats them). Secrets never reach a log line:
 * known secret fields and auth headers are redacted before any destination sees the record, so
 * both formats are covered.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'rentlink' },
      redact: {
        paths: [
          'token',
          '*.token',
          'secret',
          '*.secret',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'config.MYFATOORAH_TOKEN',
          'config.MYFATOORAH_WEBHOOK_SECRET',
          'config.ADMIN_TOKEN',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** LOG_FORMAT → the format to use: `auto` is pretty on a terminal and JSON everywhere else. */
export function chooseLogFormat(setting: 'auto' | LogFormat, isTerminal: boolean): LogFormat {
  if (setting === 'auto') return isTerminal ? 'pretty' : 'json';
  return setting;
}

/**
 * A destination that turns each JSON record into pino-pretty's human lines (UTC times with `Z`) and
 * hands them to `write`, synchronously: nothing is lost when the CLI exits right after a log call.
 */
export function prettyDestination(write: (text: string) => void, colorize: boolean): pino.DestinationStream {
  const format = prettyFactory({
    colorize,
    translateTime: "UTC:yyyy-mm-dd HH:MM:ss.l'Z'",
    ignore: 'service',
    singleLine: false,
  });
  return { write: (line: string) => write(format(line)) };
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
