// Size limits shared by the form, the entry document and the wire codec.
export const LIMITS = {
  linkChars: 2048,
  magnetChars: 4096,
  titleChars: 200,
  descriptionChars: 2000,
  tagChars: 32,
  tags: 12,
  siteNameChars: 100,
  /** A preview image blob: small enough to travel in a handful of chunks and to keep for every entry. */
  imageBytes: 64 * 1024,
  /** Longest side of a preview image, in pixels. */
  imageSide: 1200,
  /** One chunk of a blob on the wire. */
  blobChunkBytes: 16 * 1024,
  /** Whole encoded message (DESIGN: messages ≤ 256 KiB). */
  messageBytes: 256 * 1024,
  /** One Automerge change inside an envelope. */
  changeBytes: 64 * 1024,
  /** Entries named in one reconciliation or heads message. */
  itemsPerMessage: 4096,
} as const;
