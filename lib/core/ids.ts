// Branded identifiers, so that one kind of ID cannot be passed where another belongs.
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An entry's ID: 32 lowercase hex characters, the first 16 bytes of its first change's hash. */
export type EntryId = Brand<string, 'EntryId'>;
/** One running peer (a tab or a server process): random, 32 lowercase hex characters. */
export type PeerId = Brand<string, 'PeerId'>;
/** An Automerge change hash: 64 lowercase hex characters. */
export type ChangeHash = Brand<string, 'ChangeHash'>;
/** An author's Ed25519 public key: 64 lowercase hex characters. */
export type AuthorKey = Brand<string, 'AuthorKey'>;
/** SHA-256 of a blob's bytes, 64 hex characters: the blob's address. */
export type BlobHash = Brand<string, 'BlobHash'>;

const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export const isEntryId = (s: unknown): s is EntryId => typeof s === 'string' && HEX32.test(s);
export const isPeerId = (s: unknown): s is PeerId => typeof s === 'string' && HEX32.test(s);
export const isChangeHash = (s: unknown): s is ChangeHash => typeof s === 'string' && HEX64.test(s);
export const isBlobHash = (s: unknown): s is BlobHash => typeof s === 'string' && HEX64.test(s);
export const isAuthorKey = (s: unknown): s is AuthorKey => typeof s === 'string' && HEX64.test(s);

export const ENTRY_ID_PATTERN = HEX32;
export const CHANGE_HASH_PATTERN = HEX64;
