import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line: known secret fields and auth headers are
 * redacted even if a caller passes them by mistake.
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

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
