// The browser's moderation labels in RxDB (the `labels` collection): what the label exchange keeps,
// and what every tab's feed reads to hide or warn.
import type { RxCollection } from 'rxdb/plugins/core';
import { slotOf, type SignedLabel } from '../crdt/label';
import type { LabelStore } from '../protocol/label-exchange';
import type { LabelDoc } from './rxdb-schema';

export class RxdbLabelStore implements LabelStore {
  constructor(private readonly collection: RxCollection<LabelDoc>) {}

  async all(): Promise<SignedLabel[]> {
    const docs = await this.collection.find().exec();
    // Read back as they were checked before they were kept; the exchange checks their labelers again.
    return docs.map((d) => d.toJSON().label as unknown as SignedLabel);
  }

  async put(labels: readonly SignedLabel[]): Promise<void> {
    await this.collection.bulkUpsert(labels.map((l) => ({ slot: slotOf(l), label: { ...l } as Record<string, unknown> })));
  }
}
