// RxDB collections of the browser replica: materialised views (what the UI queries), saved Automerge
// documents with their signatures (what sync merges), and small settings (the identity). Three
// collections, well under RxDB's open-collection cap.
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
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
  heads: string[];
  headsDigest: string;
}

export interface EntryDocDoc {
  id: string;
  /** Saved Automerge document, base64. */
  bytes: string;
  /** Signature records, base64. */
  sigs: string;
}

export interface SettingDoc {
  key: string;
  value: Record<string, unknown>;
}

export const entryViewSchema: RxJsonSchema<EntryViewDoc> = {
  version: 0,
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
    // Indexed numbers need bounds in RxDB; Dexie needs indexed fields to be required.
    createdAt: { type: 'number', minimum: 0, maximum: 1e15, multipleOf: 1 },
    updatedAt: { type: 'number' },
    deleted: { type: 'boolean' },
    heads: { type: 'array', items: { type: 'string' } },
    headsDigest: { type: 'string' },
  },
  required: ['id', 'author', 'createdAt', 'deleted', 'headsDigest'],
  indexes: ['createdAt'],
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
