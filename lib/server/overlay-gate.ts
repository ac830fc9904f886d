// Which of an instance's sessions carry the DHT. Every browser of an instance is connected to it, so
// if all of them were its DHT neighbours the overlay would become a star around the server and lose
// most of its ways at once when the server goes. So: every other instance, and a bounded number of
// browsers; the rest of the browsers find each other through the mesh as they would without us.
import type { PeerId } from '../core/ids';
import type { Overlay, OverlayLink } from '../net/overlay';

export interface OverlayGateOptions {
  /** Whether a peer joined (or was dialled) as an instance. */
  isInstance(peer: PeerId): boolean;
  maxBrowsers: number;
}

export class OverlayGate implements Overlay {
  /** Admitted links, and whether each is an instance's (as judged when it came up). */
  private readonly admitted = new Map<OverlayLink, boolean>();
  private browsers = 0;

  constructor(
    private readonly inner: Overlay,
    private readonly options: OverlayGateOptions,
  ) {}

  get browserLinks(): number {
    return this.browsers;
  }

  linkUp(link: OverlayLink): void {
    const instance = this.options.isInstance(link.peerId);
    if (!instance && this.browsers >= this.options.maxBrowsers) return;
    if (!instance) this.browsers++;
    this.admitted.set(link, instance);
    this.inner.linkUp(link);
  }

  linkDown(link: OverlayLink): void {
    const instance = this.admitted.get(link);
    if (instance === undefined) return;
    this.admitted.delete(link);
    if (!instance) this.browsers--;
    this.inner.linkDown(link);
  }

  receive(link: OverlayLink, frame: Uint8Array): string | undefined {
    // A browser past the limit speaks the overlay in good faith; its frames are ignored, not counted.
    return this.admitted.has(link) ? this.inner.receive(link, frame) : undefined;
  }
}
