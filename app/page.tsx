import { Diagnostics } from '@/components/Diagnostics';
import { Feed } from '@/components/Feed';
import { PostForm } from '@/components/PostForm';

export default function HomePage() {
  return (
    <div className="home">
      <div className="side">
        <PostForm />
        <Diagnostics />
      </div>
      <Feed />
    </div>
  );
}
