import type { Metadata } from 'next';
import { EntryPage } from '@/components/EntryPage';

export const metadata: Metadata = { title: 'Entry · Lodestone' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <EntryPage id={id} />;
}
