import { Diagnostics } from '@/components/Diagnostics';
import { Feed } from '@/components/Feed';
import { IdentityPanel } from '@/components/IdentityPanel';
import { ModerationSettings } from '@/components/ModerationSettings';
import { PostForm } from '@/components/PostForm';
import type { Metadata } from 'next';
import { publicBaseUrl } from '@/lib/server/public-url';
import { getServerRuntime } from '@/lib/server/runtime';
import { toViewDoc } from '@/lib/storage/view-doc';

export async function generateMetadata(): Promise<Metadata> {
  const base = await publicBaseUrl();
  return {
    alternates: {
      canonical: `${base}/`,
      types: { 'application/rss+xml': [{ url: `${base}/feed.xml`, title: 'Lodestone: newest entries' }] },
    },
  };
}

export default function HomePage() {
  // The latest entries from the server replica are in the HTML before any script runs.
  const initial = (getServerRuntime()?.replica?.list({ limit: 50 }).entries ?? []).map(toViewDoc);
  return (
    <div className="home">
      <div className="side">
        <PostForm />
        <IdentityPanel />
        <ModerationSettings />
        <Diagnostics />
      </div>
      <Feed initial={initial} />
    </div>
  );
}
