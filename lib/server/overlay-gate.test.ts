import { describe, expect, it } from 'vitest';
import type { PeerId } from '../core/ids';
import type { Overlay, OverlayLink } from '../net/overlay';
import { OverlayGate } from './overlay-gate';

function recorder() {
  const log: string[] = [];
  const inner: Overlay = {
    linkUp: (l) => void log.push(`up ${l.peerId}`),
    linkDown: (l) => void log.push(`down ${l.peerId}`),
    receive: (l) => (log.push(`frame ${l.peerId}`), undefined),
  };
  return { inner, log };
}
const link = (peerId: string): OverlayLink => ({ peerId: peerId as PeerId, kind: 'socketio', send: () => {} });

describe('the overlay gate of an instance', () => {
  it('admits every instance and a bounded number of browsers; the others’ frames are ignored', () => {
    const { inner, log } = recorder();
    const instances = new Set(['i1', 'i2']);
    const gate = new OverlayGate(inner, { isInstance: (p) => instances.has(p), maxBrowsers: 2 });
    const [b1, b2, b3, i1, i2] = ['b1', 'b2', 'b3', 'i1', 'i2'].map(link) as [OverlayLink, OverlayLink, OverlayLink, OverlayLink, OverlayLink];
    for (const l of [b1, b2, b3, i1, i2]) gate.linkUp(l);
    expect(gate.browserLinks).toBe(2);
    expect(gate.receive(b3, new Uint8Array([1]))).toBeUndefined();
    gate.receive(b1, new Uint8Array([1]));
    gate.linkDown(b3); // never admitted: nothing to tell
    gate.linkDown(b1);
    expect(gate.browserLinks).toBe(1);
    // The role a link came up with decides how it leaves, whatever the peer claims later.
    instances.add('b2');
    gate.linkDown(b2);
    expect(gate.browserLinks).toBe(0);
    expect(log).toEqual(['up b1', 'up b2', 'up i1', 'up i2', 'frame b1', 'down b1', 'down b2']);
  });
});
