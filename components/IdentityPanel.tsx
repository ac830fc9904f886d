'use client';
// The author's identity: its fingerprint, and moving it to another device as a passphrase-protected file.
import { useState, type FormEvent } from 'react';
import { useNode } from '@/lib/client/context';
import { exportIdentity, importIdentity } from '@/lib/client/identity';
import { shortKey } from './format';

type Mode = 'idle' | 'export' | 'import';

function FormActions({ submitLabel, busy, onCancel }: { submitLabel: string; busy: boolean; onCancel: () => void }) {
  return (
    <div className="actions">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={busy}>
        {submitLabel}
      </button>
    </div>
  );
}

export function IdentityPanel() {
  const node = useNode();
  const [mode, setMode] = useState<Mode>('idle');
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  if (node === undefined) return null;

  const reset = (next: Mode) => {
    setMode(next);
    setPassphrase('');
    setRepeat('');
    setFile(undefined);
    setError(undefined);
    setStatus(undefined);
  };

  const doExport = async (e: FormEvent) => {
    e.preventDefault();
    if (passphrase !== repeat) return setError('The passphrases do not match.');
    setBusy(true);
    setError(undefined);
    try {
      const text = await exportIdentity(node.db, passphrase);
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `lodestone-identity-${node.replication.author.slice(0, 8)}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      reset('idle');
      setStatus('Identity exported. Keep the file and its passphrase safe: they let anyone post as you.');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const doImport = async (e: FormEvent) => {
    e.preventDefault();
    if (file === undefined) return setError('Choose an identity file.');
    setBusy(true);
    setError(undefined);
    try {
      if (file.size > 64 * 1024) throw new Error('This is not a Lodestone identity file (it is too large).');
      const keys = await importIdentity(node.db, await file.text(), passphrase);
      setStatus(`Imported identity ${shortKey(keys.author)}. Restarting…`);
      // The running node signs with the old key: restart it with the new one.
      window.location.reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <section className="identity-panel" aria-labelledby="identity-heading">
      <h2 id="identity-heading">Your identity</h2>
      <p>
        Key fingerprint: <code aria-label="Key fingerprint" title={node.replication.author}>{node.replication.author.slice(0, 16)}</code>
      </p>
      {mode === 'idle' && (
        <div className="actions start">
          <button type="button" onClick={() => reset('export')}>
            Export identity
          </button>
          <button type="button" onClick={() => reset('import')}>
            Import identity
          </button>
        </div>
      )}
      {mode === 'export' && (
        <form aria-label="Export identity" onSubmit={doExport} className="identity-form">
          <label>
            Passphrase
            <input type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
          </label>
          <label>
            Repeat passphrase
            <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
          </label>
          <FormActions submitLabel="Download" busy={busy} onCancel={() => reset('idle')} />
        </form>
      )}
      {mode === 'import' && (
        <form aria-label="Import identity" onSubmit={doImport} className="identity-form">
          <p className="hint">Importing replaces this browser&apos;s identity. Export it first if you still need it.</p>
          <label>
            Identity file
            <input type="file" accept="application/json,.json" onChange={(e) => setFile(e.target.files?.[0])} />
          </label>
          <label>
            Passphrase
            <input type="password" autoComplete="current-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
          </label>
          <FormActions submitLabel="Import" busy={busy} onCancel={() => reset('idle')} />
        </form>
      )}
      {error !== undefined && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {status !== undefined && <p role="status">{status}</p>}
    </section>
  );
}
