'use client';
// "Mute…" on a card: mute the entry's author, its site or one of its tags, for this person only (kept
// in IndexedDB with the moderation settings; undone from the Moderation panel or the feed's notice).
// A disclosure of plain buttons rather than an ARIA menu: a handful of choices, reachable by Tab.
import { useEffect, useId, useRef, useState } from 'react';
import type { MuteKind } from '@/lib/client/moderation-verdict';
import { shortKey } from './format';

export type OnMute = (kind: MuteKind, value: string) => void;

export function MuteMenu({ author, host, tags, mine, onMute }: { author: string; host: string; tags: readonly string[]; mine: boolean; onMute: OnMute }) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const root = useRef<HTMLSpanElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);

  // Closes on Escape (focus back on "Mute…") and on a click anywhere else.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      trigger.current?.focus();
    };
    const onDown = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onDown);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onDown);
    };
  }, [open]);

  const choose = (kind: MuteKind, value: string) => {
    setOpen(false);
    onMute(kind, value);
  };

  return (
    <span className="mute" ref={root}>
      <button ref={trigger} type="button" aria-expanded={open} aria-controls={menuId} onClick={() => setOpen((o) => !o)}>
        Mute…
      </button>
      {open && (
        <span id={menuId} className="mute-options" role="group" aria-label="Mute">
          {!mine && (
            <button type="button" onClick={() => choose('authors', author)}>
              Mute author <code>{shortKey(author)}</code>
            </button>
          )}
          {host !== '' && (
            <button type="button" onClick={() => choose('hosts', host)}>
              Mute site {host}
            </button>
          )}
          {tags.map((t) => (
            <button key={t} type="button" onClick={() => choose('tags', t)}>
              Mute #{t}
            </button>
          ))}
        </span>
      )}
    </span>
  );
}
