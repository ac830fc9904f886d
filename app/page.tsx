import { Diagnostics } from '@/components/Diagnostics';
import { Feed } from '@/components/Feed';
import { IdentityPanel } from '@/components/IdentityPanel';
import { PostForm } from '@/components/PostForm';

export default function HomePage() {
  return (
    <div className="home">
      <div className="side">
        <PostForm />
        <IdentityPanel />
        <Diagnostics />
      </div>
      <Feed />
    </div>
  );
}
