'use client';
// An entry labelled with a value this person chose to be warned about: its card or page is blurred
// behind a notice naming the labels, until they choose "Show anyway". The blurred content is inert
// and hidden from assistive technology, so nothing of it is read out or reachable by keyboard.
import { useState, type ReactNode } from 'react';
import type { Verdict } from '@/lib/client/moderation-verdict';

const NAMES: Record<string, string> = { nsfw: 'adult content (nsfw)', misleading: 'misleading', spam: 'spam', illegal: 'illegal' };

export function LabelGate({ verdict, children }: { verdict: Verdict; children: ReactNode }) {
  const [revealed, setRevealed] = useState(false);
  if (verdict.action !== 'warn' || revealed) return <>{children}</>;
  const names = verdict.values.map((v) => NAMES[v] ?? v).join(', ');
  return (
    <div className="label-gate" role="group" aria-label={`Content warning: ${names}`}>
      <div className="label-gate-content" aria-hidden="true" inert>
        {children}
      </div>
      <div className="label-gate-notice">
        <p>
          Labelled <strong>{names}</strong> by a labeler you follow.
        </p>
        <button type="button" onClick={() => setRevealed(true)}>
          Show anyway
        </button>
      </div>
    </div>
  );
}
