/**
 * Application close codes (4000-4999) the server ends a connection with after the upgrade: the HTTP
 * status plus 4000, as Hocuspocus does. A browser sees an upgrade refused with HTTP 401 only as 1006,
 * the same as a network error; these it sees.
 */
/** The credentials were refused (a browser-style request; a Node client gets HTTP 401 at the upgrade). */
export const CLOSE_UNAUTHORIZED = 4401;
/** The principal may not sync as the clientId it asked for (an `error` with code `forbidden` comes first). */
export const CLOSE_FORBIDDEN = 4403;
/** Another connection of the same clientId took over. */
export const CLOSE_REPLACED = 4000;
