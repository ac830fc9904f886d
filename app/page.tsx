import { Diagnostics } from '@/components/Diagnostics';
import { Feed } from '@/components/Feed';
import { IdentityPanel } from '@/components/IdentityPanel';
import { ModerationSettings } from '@/components/ModerationSettings';
import { PostForm } from '@/components/PostForm';
import { getServerRuntime } from '@/lib/server/runtime';
import { toViewDoc } from '@/lib/storage/view-doc';

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
