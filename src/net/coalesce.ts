import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

const corked = new WeakSet<Duplex>();

/**
 * Sends `data` on `ws`, letting every frame sent in the same tick leave in one socket write. ws
 * writes each frame with a syscall of its own: in a burst of small patches (and in the server's
 * answers and broadcasts to them) most of the sending time went there. The socket is corked on the
 * first frame of a tick and uncorked when the tick ends; Node counts corks, so ws's own per-frame
 * cork/uncork nests inside. Frames stay one message each: nothing changes on the wire.
 */
export function sendCoalesced(ws: WebSocket, data: string | Buffer, options: { compress?: boolean } = {}): void {
  // ws keeps its net.Socket on `_socket`; without it (not connected yet) frames go out one by one.
  const socket = (ws as unknown as { _socket?: Duplex })._socket;
  if (socket && !corked.has(socket)) {
    corked.add(socket);
    socket.cork();
    process.nextTick(() => {
      corked.delete(socket);
      socket.uncork();
    });
  }
  // A Buffer is UTF-8 JSON text here: it goes out as a text frame, as a string would.
  ws.send(data, { binary: false, compress: options.compress ?? true });
}
