import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { AppShell } from '@/components/AppShell';
import { getClientConfig } from '@/lib/server/client-config';
import './globals.css';

// Configuration (network, ICE servers) is read at request time, not baked into the build.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: 'Lodestone',
  description: 'Links and magnet URIs, shared browser to browser.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <AppShell config={getClientConfig()}>{children}</AppShell>
      </body>
    </html>
  );
}
