// Size limits shared by the form, the entry document and the wire codec.
export const LIMITS = {
  linkChars: 2048,
  magnetChars: 4096,
  titleChars: 200,
  descriptionChars: 2000,
  tagChars: 32,
  tags: 12,
  /** Whole encoded message (DESIGN: messages ≤ 256 KiB). */
  messageBytes: 256 * 1024,
  /** One Automerge change inside an envelope. */
  changeBytes: 64 * 1024,
  /** Entries named in one reconciliation or heads message. */
  itemsPerMessage: 4096,
} as const;
