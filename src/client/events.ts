import type { Logger } from '../logger.js';

type Listeners<Events> = { [K in keyof Events]?: Set<(payload: Events[K]) => void> };

/**
 * Listeners per event name, typed by `Events` (name -> payload). A listener that throws is logged
 * and does not stop the others: one faulty UI callback must not break sync. `unheard` is called
 * for an event nobody listens to (an error must not vanish silently).
 */
export class Emitter<Events> {
  private readonly listeners: Listeners<Events> = {};

  constructor(
    private readonly logger: Logger,
    private readonly unheard: <K extends keyof Events>(event: K, payload: Events[K]) => void = () => {},
  ) {}

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    const set = (this.listeners[event] ??= new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  listened(event: keyof Events): boolean {
    return (this.listeners[event]?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners[event];
    if (!set?.size) return this.unheard(event, payload);
    for (const listener of set) {
      try {
        listener(payload);
      } catch (e) {
        this.logger.error(`kuzu-sync: a '${String(event)}' listener threw:`, e);
      }
    }
  }
}
