import { describe, expect, it } from 'vitest';
import { generateIdentity } from './envelope';
import { exportIdentityFile, IdentityFileError, importIdentityFile } from './identity-file';

const ITER = 2_000;

describe('identity files', () => {
  it('round-trips an identity under its passphrase', async () => {
    const keys = await generateIdentity();
    const file = await exportIdentityFile(keys, 'correct horse battery', ITER);
    expect(file).not.toContain(keys.privateJwk.d!);
    const back = await importIdentityFile(file, 'correct horse battery');
    expect(back.author).toBe(keys.author);
    expect(back.privateJwk.d).toBe(keys.privateJwk.d);
  });

  it('refuses a wrong passphrase with a clear error', async () => {
    const file = await exportIdentityFile(await generateIdentity(), 'correct horse battery', ITER);
    await expect(importIdentityFile(file, 'wrong horse battery')).rejects.toThrow(/Wrong passphrase/);
  });

  it('refuses damaged and foreign files', async () => {
    const keys = await generateIdentity();
    const file = await exportIdentityFile(keys, 'correct horse battery', ITER);
    const parsed = JSON.parse(file);
    const flipped = { ...parsed, data: parsed.data.slice(0, 10) + (parsed.data[10] === 'A' ? 'B' : 'A') + parsed.data.slice(11) };
    await expect(importIdentityFile(JSON.stringify(flipped), 'correct horse battery')).rejects.toThrow(IdentityFileError);
    const other = await generateIdentity();
    await expect(importIdentityFile(JSON.stringify({ ...parsed, author: other.author }), 'correct horse battery')).rejects.toThrow(IdentityFileError);
    await expect(importIdentityFile('not json', 'x')).rejects.toThrow(/not JSON/);
    await expect(importIdentityFile('{"format":"something else"}', 'x')).rejects.toThrow(/not a Lodestone identity file/);
    await expect(importIdentityFile(JSON.stringify({ ...parsed, kdf: { ...parsed.kdf, iterations: 1 } }), 'x')).rejects.toThrow(IdentityFileError);
    await expect(importIdentityFile('x'.repeat(20_000), 'x')).rejects.toThrow(/too large/);
  });

  it('refuses short passphrases on export', async () => {
    await expect(exportIdentityFile(await generateIdentity(), 'short', ITER)).rejects.toThrow(/at least 8/);
  });
});
