'use client';
// This browser's moderation choices: for each label value, hide / warn / show; which labelers it
// follows (by default the operator of this instance); and the authors, sites and tags it muted.
// Kept in IndexedDB (the settings collection) and followed by every tab.
import { useState, type FormEvent } from 'react';
import { LABEL_VALUES, type LabelValue } from '@/lib/crdt/label';
import { withoutMute, type LabelChoice } from '@/lib/client/moderation-verdict';
import { useModeration } from '@/lib/client/use-moderation';
import { shortKey } from './format';

const VALUE_NAMES: Record<LabelValue, string> = { illegal: 'Illegal', spam: 'Spam', nsfw: 'Adult content (nsfw)', misleading: 'Misleading' };
const CHOICES: Array<{ value: LabelChoice; name: string }> = [
  { value: 'hide', name: 'Hide' },
  { value: 'warn', name: 'Warn' },
  { value: 'show', name: 'Show' },
];

export function ModerationSettings() {
  const m = useModeration();
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const following = [...m.labelers];

  const follow = async (e: FormEvent) => {
    e.preventDefault();
    const k = key.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(k)) {
      setProblem('A labeler key is 64 hexadecimal characters.');
      return;
    }
    setProblem(undefined);
    await m.update((p) => ({ ...p, labelers: [...new Set([...(p.labelers ?? following), k])].slice(0, 32) }));
    setKey('');
  };

  const muted = (['authors', 'hosts', 'tags'] as const).flatMap((kind) => m.prefs.muted[kind].map((v) => ({ kind, v })));
  return (
    <details className="moderation">
      <summary>Moderation</summary>
      <fieldset>
        <legend>Labelled entries</legend>
        {LABEL_VALUES.map((value) => (
          <label key={value} className="choice-row">
            <span>{VALUE_NAMES[value]}</span>
            <select
              value={m.prefs.choices[value]}
              onChange={(e) => {
                // Read now: React puts the controlled value back before the update below runs.
                const choice = e.target.value as LabelChoice;
                void m.update((p) => ({ ...p, choices: { ...p.choices, [value]: choice } }));
              }}
            >
              {CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        ))}
      </fieldset>
      <section aria-label="Labelers you follow">
        <h3>Labelers you follow</h3>
        {following.length === 0 && <p className="hint">None: labels change nothing here.</p>}
        <ul>
          {following.map((k) => (
            <li key={k}>
              <code title={k}>{shortKey(k)}</code>
              {k === m.operatorKey && <span className="hint"> (this instance)</span>}{' '}
              <button type="button" onClick={() => void m.update((p) => ({ ...p, labelers: (p.labelers ?? following).filter((x) => x !== k) }))}>
                Unfollow
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={(e) => void follow(e)} className="follow-labeler">
          <label>
            Follow a labeler (key)
            <input value={key} onChange={(e) => setKey(e.target.value)} spellCheck={false} autoComplete="off" />
          </label>
          <button type="submit">Follow</button>
          {problem !== undefined && (
            <p className="field-error" role="alert">
              {problem}
            </p>
          )}
        </form>
      </section>
      <section aria-label="Muted">
        <h3>Muted</h3>
        {muted.length === 0 && <p className="hint">Nothing muted. Use “Mute…” on an entry to mute its author, its site or a tag.</p>}
        <ul>
          {muted.map(({ kind, v }) => (
            <li key={`${kind}:${v}`}>
              {kind === 'authors' ? 'Author' : kind === 'hosts' ? 'Site' : 'Tag'} <code>{kind === 'authors' ? shortKey(v) : v}</code>{' '}
              <button type="button" onClick={() => void m.update((p) => withoutMute(p, kind, v))}>
                Unmute
              </button>
            </li>
          ))}
        </ul>
      </section>
    </details>
  );
}
