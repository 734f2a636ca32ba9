/**
 * Turns a `Fault` into action. One-shot faults (`disconnect`, `server-shutdown`) act on the
 * open connections at once; every other fault joins the `FaultRegistry`, which the
 * connections, the feed and REST consult per frame/trade/request. A `silence` fault is pinned
 * to the connections open at injection and may expire on its own timer.
 */
import type { Fault, FaultRegistry } from './faults.js';
import type { SimLogger } from './options.js';
import type { Subscriptions } from './subscriptions.js';

export class FaultInjector {
  constructor(
    private readonly registry: FaultRegistry,
    private readonly subscriptions: Subscriptions,
    private readonly log: SimLogger,
  ) {}

  /** Activates a fault; returns a function that removes it (no-op for one-shot faults). */
  inject(fault: Fault): () => void {
    switch (fault.kind) {
      case 'disconnect':
        for (const c of this.subscriptions.connections(fault.market)) c.close('fault: disconnect', fault.abrupt === true);
        return () => undefined;
      case 'server-shutdown':
        for (const c of this.subscriptions.connections(fault.market)) {
          c.sendEvent({ e: 'serverShutdown', E: Date.now() });
          c.close('server shutdown');
        }
        return () => undefined;
      default: {
        const active = this.registry.add(fault);
        if (fault.kind === 'silence') {
          active.targets = new WeakSet(this.subscriptions.connections(fault.market));
          if (fault.durationMs !== undefined) {
            active.timer = setTimeout(() => this.registry.remove(active), fault.durationMs);
            active.timer.unref();
          }
        }
        this.log.info({ fault }, 'fault injected');
        return () => this.registry.remove(active);
      }
    }
  }

  /** Removes every active fault (and its timers). */
  clear(): void {
    this.registry.clear();
  }
}
