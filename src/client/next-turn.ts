/** Node's setImmediate, where there is one (through globalThis: browsers have none). */
const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;

/**
 * Runs `f` in a later turn of the event loop, after pending I/O: setImmediate in Node, and in a
 * browser a MessageChannel message, which setTimeout(0)'s 4 ms clamp does not slow (#21).
 */
export const nextTurn: (f: () => void) => void = immediate ? (f) => void immediate(f) : channelTurn();

interface Channel {
  port1: { onmessage: (() => void) | null };
  port2: { postMessage(message: unknown): void };
}

function channelTurn(): (f: () => void) => void {
  const waiting: Array<() => void> = [];
  const channel = new MessageChannel() as unknown as Channel;
  channel.port1.onmessage = () => waiting.shift()?.();
  return (f) => {
    waiting.push(f);
    channel.port2.postMessage(null);
  };
}
