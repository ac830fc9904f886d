import { Feed } from '@/components/Feed';
import { PostForm } from '@/components/PostForm';

export default function HomePage() {
  return (
    <div className="home">
      <PostForm />
      <Feed />
    </div>
  );
}
