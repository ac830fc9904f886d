'use client';
// An entry's preview image. Every image shown comes from a blob store, never from a third-party URL:
// the page first renders the instance's copy (/blobs/<hash>, so it shows without JavaScript), then
// the browser's own copy from IndexedDB, fetched from peers when it does not hold it. When no one has
// it, a placeholder stands in; the entry shows all the same.
import { useEffect, useMemo, useState } from 'react';
import { parseImageRef } from '@/lib/core/preview-image';
import { useNode } from '@/lib/client/context';
import { previewImageUrl } from '@/lib/client/preview-images';

type Shown = { src: string; from: 'instance' | 'local' } | { src: undefined; from: 'missing' };

export function PreviewImage({ image, label, className }: { image: string; label: string; className?: string }) {
  const ref = useMemo(() => parseImageRef(image), [image]);
  const node = useNode();
  const [shown, setShown] = useState<Shown>(() => (ref === undefined ? { src: undefined, from: 'missing' } : { src: `/blobs/${ref.hash}`, from: 'instance' }));

  useEffect(() => {
    if (ref === undefined || node === undefined) return;
    let cancelled = false;
    let lastPeers = '';
    const attempt = () =>
      void previewImageUrl(node.replication, ref).then((url) => {
        if (!cancelled && url !== undefined) setShown({ src: url, from: 'local' });
      });
    attempt();
    // Not held by any peer yet: ask again whenever the set of connected peers changes.
    const sub = node.replication.peers$.subscribe((peers) => {
      const ids = peers
        .filter((p) => p.state === 'ready')
        .map((p) => p.peerId)
        .sort()
        .join(',');
      if (ids !== lastPeers) {
        lastPeers = ids;
        attempt();
      }
    });
    return () => {
      cancelled = true;
      sub.unsubscribe();
    };
  }, [ref, node]);

  if (ref === undefined) return null;
  const ratio = `${ref.width} / ${ref.height}`;
  if (shown.src === undefined) {
    return (
      <div className={`preview-image placeholder ${className ?? ''}`} role="img" aria-label={`${label} (unavailable)`} style={{ aspectRatio: ratio }} />
    );
  }
  return (
    // eslint-disable-next-line @next/next/no-img-element -- content-addressed blobs, already small
    <img
      className={`preview-image ${className ?? ''}`}
      src={shown.src}
      alt={label}
      width={ref.width}
      height={ref.height}
      style={{ aspectRatio: ratio }}
      decoding="async"
      referrerPolicy="no-referrer"
      data-source={shown.from}
      onError={() => setShown((s) => (s.from === 'instance' ? { src: undefined, from: 'missing' } : s))}
    />
  );
}
