// Object URLs for preview images, one per hash for the page's lifetime (a feed shows each image in
// one place, and a handful of 64 KB images is cheap to keep), so re-renders never refetch or leak.
import type { BlobHash } from '../core/ids';
import type { ImageRef } from '../core/preview-image';
import type { LodestoneReplicationState } from './replication';

const urls = new Map<BlobHash, Promise<string | undefined>>();

export function previewImageUrl(replication: LodestoneReplicationState, ref: ImageRef): Promise<string | undefined> {
  let url = urls.get(ref.hash);
  if (url === undefined) {
    url = replication.loadImage(ref).then((bytes) => (bytes === undefined ? undefined : URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: ref.type }))));
    urls.set(ref.hash, url);
    // A miss is not remembered: a peer that holds the image may connect later.
    void url.then((u) => {
      if (u === undefined) urls.delete(ref.hash);
    });
  }
  return url;
}

/** Object URL for bytes the page itself holds (a picked or suggested image before publishing). */
export function localImageUrl(bytes: Uint8Array, type: string): string {
  return URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type }));
}
