// The /api/unfurl service: per-client rate limit, bounded concurrency, and answers shaped for the form.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../core/bytes';
import { silentLogger } from '../core/logger';
import { inspectImageBlob } from '../core/preview-image';
import { FetchRefused } from './unfurl';
import type { UnfurlResult } from './unfurl';
import { UnfurlService, type Unfurler } from './unfurl-service';

const page = (): UnfurlResult => ({ url: 'https://example.org/a', title: 'T', description: 'D', siteName: 'S' });

describe('UnfurlService', () => {
  it('limits each client separately', async () => {
    const service = new UnfurlService({ unfurler: { unfurl: async () => page() }, logger: silentLogger, perMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await service.unfurl('https://example.org/a', 'client-a')).status).toBe(200);
    const limited = await service.unfurl('https://example.org/a', 'client-a');
    expect(limited.status).toBe(429);
    expect(limited).toMatchObject({ body: { code: 'rate-limited' } });
    expect('retryAfterSeconds' in limited && limited.retryAfterSeconds).toBeGreaterThan(0);
    expect((await service.unfurl('https://example.org/a', 'client-b')).status).toBe(200);
  });

  it('runs a bounded number of unfurls at once and answers "busy" past its queue', async () => {
    const release: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const unfurler: Unfurler = {
      unfurl: () =>
        new Promise((resolve) => {
          running++;
          most = Math.max(most, running);
          release.push(() => {
            running--;
            resolve(page());
          });
        }),
    };
    const service = new UnfurlService({ unfurler, logger: silentLogger, perMinute: 100, concurrency: 2, queue: 1 });
    const calls = [0, 1, 2].map((i) => service.unfurl('https://example.org/a', `c${i}`));
    const busy = await service.unfurl('https://example.org/a', 'c3');
    expect(busy).toMatchObject({ status: 429, body: { code: 'busy' } });
    await expect.poll(() => release.length).toBe(2);
    while (release.length > 0 || running > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect((await Promise.all(calls)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(most).toBe(2);
  });

  it('maps refusals to statuses with the unfurler’s message', async () => {
    const refusing = (code: string) =>
      new UnfurlService({
        unfurler: { unfurl: async () => Promise.reject(new FetchRefused(code as never, `refused: ${code}`)) },
        logger: silentLogger,
      });
    expect(await refusing('forbidden-address').unfurl('http://10.0.0.1/', 'c')).toMatchObject({ status: 422, body: { code: 'forbidden-address', error: 'refused: forbidden-address' } });
    expect(await refusing('scheme').unfurl('ftp://x/', 'c')).toMatchObject({ status: 400 });
    expect(await refusing('timeout').unfurl('https://slow.example/', 'c')).toMatchObject({ status: 502 });
  });

  it('sends the suggested image inline, checked as a preview blob', async () => {
    const bytes = new Uint8Array(await sharp({ create: { width: 120, height: 60, channels: 3, background: '#369' } }).webp().toBuffer());
    const service = new UnfurlService({
      unfurler: { unfurl: async () => ({ ...page(), image: { bytes, type: 'image/webp', width: 120, height: 60, sha256: '' } }) },
      logger: silentLogger,
    });
    const answer = await service.unfurl('https://example.org/a', 'c');
    if (answer.status !== 200) throw new Error('expected 200');
    const image = answer.body.image!;
    expect({ width: image.width, height: image.height, type: image.type }).toEqual({ width: 120, height: 60, type: 'image/webp' });
    const checked = inspectImageBlob(fromBase64(image.data), image);
    expect(checked.ok).toBe(true);
  });
});
