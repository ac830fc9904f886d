// RxDB collections of the browser replica: materialised views (what the UI queries), saved Automerge
// documents with their signatures (what sync merges), preview image blobs, moderation labels, and
// small settings (the identity, moderation choices). Five collections, well under RxDB's cap.
import type { RxJsonSchema } from 'rxdb/plugins/core';

export interface EntryViewDoc {
  id: string;
  author: string;
  url: string;
  host: string;
  magnet: string;
  infohash: string;
  displayName: string;
  title: string;
  description: string;
  tags: string[];
  siteName: string;
  image: string;
  createdAt: number;
  /** FEED_ORDER_BASE − createdAt: the feed's newest-first order as an ascending index, the only
   * direction RxDB's Dexie storage walks, so "newest 100" reads 100 records, not the whole replica. */
  feedOrder: number;
  updatedAt: number;
  deleted: boolean;
  heads: string[];
  headsDigest: string;
}

export const FEED_ORDER_BASE = 1e15;

export function feedOrderOf(createdAt: number): number {
  return Math.max(0, FEED_ORDER_BASE - createdAt);
}

export interface EntryDocDoc {
  id: string;
  /** Saved Automerge document, base64. */
  bytes: string;
  /** Signature records, base64. */
  sigs: string;
}

export interface BlobDoc {
  /** SHA-256 of the bytes, hex. */
  hash: string;
  type: string;
  size: number;
  /** The bytes, base64. */
  data: string;
  addedAt: number;
}

/** A moderation label held (lib/crdt/label.ts), one per slot: the newest of its labeler, subject and value. */
export interface LabelDoc {
  slot: string;
  label: Record<string, unknown>;
}

export const labelSchema: RxJsonSchema<LabelDoc> = {
  version: 0,
  primaryKey: 'slot',
  type: 'object',
  properties: {
    // src (64) : kind : subject (≤ 253) : value
    slot: { type: 'string', maxLength: 360 },
    label: { type: 'object' },
  },
  required: ['slot', 'label'],
};

export interface SettingDoc {
  key: string;
  value: Record<string, unknown>;
}

export const entryViewSchema: RxJsonSchema<EntryViewDoc> = {
  // 1: siteName and image (previews). 2: feedOrder.
  version: 2,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 32 },
    author: { type: 'string', maxLength: 64 },
    url: { type: 'string' },
    host: { type: 'string' },
    magnet: { type: 'string' },
    infohash: { type: 'string' },
    displayName: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    siteName: { type: 'string' },
    image: { type: 'string' },
    // Indexed numbers need bounds in RxDB; Dexie needs indexed fields to be required.
    createdAt: { type: 'number', minimum: 0, maximum: 1e15, multipleOf: 1 },
    feedOrder: { type: 'number', minimum: 0, maximum: FEED_ORDER_BASE, multipleOf: 1 },
    updatedAt: { type: 'number' },
    deleted: { type: 'boolean' },
    heads: { type: 'array', items: { type: 'string' } },
    headsDigest: { type: 'string' },
  },
  required: ['id', 'author', 'createdAt', 'feedOrder', 'deleted', 'headsDigest'],
  indexes: ['createdAt', 'feedOrder'],
};

/** Views stored before previews existed gain empty preview fields; before feedOrder, that key. */
export const entryViewMigrations = {
  1: (doc: Omit<EntryViewDoc, 'siteName' | 'image' | 'feedOrder'>): Omit<EntryViewDoc, 'feedOrder'> => ({ ...doc, siteName: '', image: '' }),
  2: (doc: Omit<EntryViewDoc, 'feedOrder'>): EntryViewDoc => ({ ...doc, feedOrder: feedOrderOf(doc.createdAt) }),
};

export const blobSchema: RxJsonSchema<BlobDoc> = {
  version: 0,
  primaryKey: 'hash',
  type: 'object',
  properties: {
    hash: { type: 'string', maxLength: 64 },
    type: { type: 'string' },
    size: { type: 'number' },
    data: { type: 'string' },
    addedAt: { type: 'number' },
  },
  required: ['hash', 'type', 'size', 'data', 'addedAt'],
};

export const entryDocSchema: RxJsonSchema<EntryDocDoc> = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 32 },
    bytes: { type: 'string' },
    sigs: { type: 'string' },
  },
  required: ['id', 'bytes', 'sigs'],
};

export const settingSchema: RxJsonSchema<SettingDoc> = {
  version: 0,
  primaryKey: 'key',
  type: 'object',
  properties: {
    key: { type: 'string', maxLength: 64 },
    value: { type: 'object' },
  },
  required: ['key', 'value'],
};
