/**
 * Where the package reports what it does. Expected authentication failures go to `debug`
 * (silent by default); configuration problems go to `warn` and server-side failures (an
 * unreachable authorization server) to `error` (both the console by default). Tokens are never
 * logged.
 */
export type Logger = {
  debug?: (message: string, meta?: Record<string, unknown>) => void;
  info?: (message: string, meta?: Record<string, unknown>) => void;
  warn?: (message: string, meta?: Record<string, unknown>) => void;
  error?: (message: string, meta?: Record<string, unknown>) => void;
};

export const defaultLogger: Logger = Object.freeze({
  warn: (message: string) => {
    console.warn(message);
  },
  error: (message: string, meta?: Record<string, unknown>) => {
    console.error(message, meta ?? '');
  },
});
