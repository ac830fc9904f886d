'use client';
// Page chrome shared by the feed and the permalink page: starts the node and shows connectivity.
import Link from 'next/link';
import type { ReactNode } from 'react';
import { LodestoneProvider, useNode } from '@/lib/client/context';
import type { ClientConfig } from '@/lib/client/node';
import { PeerStatus } from './PeerStatus';
import { shortKey } from './format';

function Identity() {
  const node = useNode();
  if (node === undefined) return null;
  return (
    <span className="identity" title={node.replication.author}>
      You are <code aria-label="Your key">{shortKey(node.replication.author)}</code>
    </span>
  );
}

export function AppShell({ config, children }: { config: ClientConfig; children: ReactNode }) {
  return (
    <LodestoneProvider config={config}>
      <header className="site-header">
        <Link href="/" className="brand">
          Lodestone
        </Link>
        <Identity />
        <PeerStatus />
      </header>
      <main className="content">{children}</main>
    </LodestoneProvider>
  );
}
