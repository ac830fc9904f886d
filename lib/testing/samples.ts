// Sample data shared by the tests of the pure core.
import type { EntryFields } from '../core/entry-fields';

export const SINTEL_MAGNET = 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Sintel';

/** Valid entry fields, with any field overridden. */
export function sampleFields(overrides: Partial<EntryFields> = {}): EntryFields {
  return {
    url: 'https://example.org/a',
    magnet: SINTEL_MAGNET,
    title: 'Sintel',
    description: 'd',
    tags: ['video'],
    ...overrides,
  };
}
