// The instance's public base URL for canonical and Open Graph links: PUBLIC_URL when configured,
// otherwise the request's own host (behind a proxy, set PUBLIC_URL).
import { headers } from 'next/headers';
import { getServerRuntime } from './runtime';

export async function publicBaseUrl(): Promise<string> {
  const configured = getServerRuntime()?.publicUrl;
  if (configured !== undefined) return configured.replace(/\/+$/, '');
  const h = await headers();
  const host = h.get('host') ?? 'localhost';
  const safeHost = /^[A-Za-z0-9.:[\]-]+$/.test(host) ? host : 'localhost';
  return `http://${safeHost}`;
}
