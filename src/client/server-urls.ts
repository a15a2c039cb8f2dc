import { SyncError } from '../protocol/errors.js';
import type { SyncClientOptions } from './options.js';

/** The servers to connect to, in turn; throws unless each is a ws:// or wss:// URL and there is one. */
export function serverUrls(serverUrl: SyncClientOptions['serverUrl']): string[] {
  const urls = typeof serverUrl === 'string' ? [serverUrl] : serverUrl;
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string' && /^wss?:\/\//.test(u))) {
    throw new SyncError('invalid_value', 'serverUrl must be a ws:// or wss:// URL, or a non-empty list of them');
  }
  return urls;
}
