import { SyncError } from '../protocol/errors.js';
import type { Logger } from './options.js';

/**
 * What keeps the client from a connection, as whenSynced tells it: the server's refusal of this
 * client (a 401, a clientId its principal may not use, or one another client took over), and why
 * the last attempts failed. An HTTP status at the upgrade (a wrong path, a refused origin, an
 * `authenticate` that throws, a proxy with no backend) is a warning: something answers, and not
 * with a WebSocket. A network error (a server restarting) is only info. Each reason at each URL is
 * told once, until a connection succeeds.
 */
export class ConnectionTrouble {
  /** The server's last refusal of this client. */
  refusal: SyncError | undefined;
  private lastFailure: string | undefined;
  private readonly told = new Set<string>();

  constructor(private readonly logger: Logger) {}

  failed(url: string, why: string, answered: boolean): void {
    this.lastFailure = `${url}: ${why}`;
    if (this.told.has(this.lastFailure)) return;
    this.told.add(this.lastFailure);
    const line = `kuzu-sync: ${this.lastFailure}; retrying with backoff`;
    if (answered) this.logger.warn(line);
    else this.logger.info(line);
  }

  connected(): void {
    this.lastFailure = undefined;
    this.told.clear();
  }

  /** Why whenSynced fails at once while the client stops as `unauthorized`. */
  refused(): SyncError {
    const why =
      this.refusal?.code === 'forbidden'
        ? `${this.refusal.message}; fix the principal or the clientId`
        : 'the server refuses this client (401); fix the token';
    return new SyncError(this.refusal?.code ?? 'unauthorized', `${why} and call connect()`);
  }

  /** For a wait that ran out: the last failure, if the connection has not succeeded since. */
  describe(): string {
    return this.lastFailure === undefined ? '' : `; last connection failure: ${this.lastFailure}`;
  }
}
