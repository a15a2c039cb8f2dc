/** Where kuzu-sync reports what it does; console-compatible. */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * The default of clients and servers: what needs someone's attention (a hook that threw, a commit
 * that failed, a connection that cannot succeed) goes to the console; the rest is dropped.
 */
export const quietLogger: Logger = {
  debug() {},
  info() {},
  warn: (...a) => console.warn(...a),
  error: (...a) => console.error(...a),
};
