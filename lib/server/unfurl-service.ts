// What /api/unfurl runs: a per-client rate limit in front of the unfurler, and the answer shaped for
// the post form (the suggested image travels inline as base64, checked as a preview blob, so nothing
// is stored until someone publishes an entry that names it).
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { toBase64 } from '../core/bytes';
import type { Logger } from '../core/logger';
import { inspectImageBlob, type ImageRef } from '../core/preview-image';
import type { UnfurlResult } from './unfurl';

export interface UnfurlSuggestion {
  url: string;
  title?: string;
  description?: string;
  siteName?: string;
  image?: ImageRef & { data: string };
  imageError?: string;
}

export type UnfurlAnswer =
  | { status: 200; body: UnfurlSuggestion }
  | { status: 400 | 422 | 429 | 502; body: { error: string; code: string }; retryAfterSeconds?: number };

export interface Unfurler {
  unfurl(url: string): Promise<UnfurlResult>;
}

export interface UnfurlServiceOptions {
  unfurler: Unfurler;
  logger: Logger;
  /** Unfurls one client may ask for per minute. */
  perMinute?: number;
  /** Unfurls running at once on this instance (each may decode an image of up to 40 megapixels). */
  concurrency?: number;
  /** Unfurls waiting for a slot; past this the answer is "busy". */
  queue?: number;
}

export class UnfurlService {
  private readonly limiter: RateLimiterMemory;
  private readonly log: Logger;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: UnfurlServiceOptions) {
    this.limiter = new RateLimiterMemory({ points: options.perMinute ?? 20, duration: 60 });
    this.log = options.logger.child('unfurl');
  }

  /** Waits for one of the instance's unfurl slots; false when too many are already waiting. */
  private async acquire(): Promise<boolean> {
    if (this.running < (this.options.concurrency ?? 2)) {
      this.running++;
      return true;
    }
    if (this.waiting.length >= (this.options.queue ?? 16)) return false;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return true;
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.running--;
  }

  async unfurl(url: string, client: string): Promise<UnfurlAnswer> {
    try {
      await this.limiter.consume(client);
    } catch (res) {
      const wait = res instanceof RateLimiterRes ? Math.ceil(res.msBeforeNext / 1000) : 60;
      return { status: 429, body: { error: `Too many previews asked for; try again in ${wait} s.`, code: 'rate-limited' }, retryAfterSeconds: wait };
    }
    if (!(await this.acquire())) {
      return { status: 429, body: { error: 'This instance is busy making previews; try again in a few seconds.', code: 'busy' }, retryAfterSeconds: 5 };
    }
    let result: UnfurlResult;
    try {
      result = await this.options.unfurler.unfurl(url);
    } catch (err) {
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'failed';
      const message = err instanceof Error ? err.message : 'The page could not be fetched.';
      this.log.info('unfurl refused', { code });
      const status = code === 'bad-url' || code === 'scheme' || code === 'credentials' || code === 'port' ? 400 : code === 'forbidden-address' ? 422 : 502;
      return { status, body: { error: message, code } };
    } finally {
      this.release();
    }
    const body: UnfurlSuggestion = { url: result.url, title: result.title, description: result.description, siteName: result.siteName };
    if (result.image !== undefined) {
      const checked = inspectImageBlob(result.image.bytes);
      if (checked.ok) body.image = { ...checked.ref, data: toBase64(result.image.bytes) };
      else body.imageError = checked.message;
    } else if (result.imageError !== undefined) {
      body.imageError = result.imageError;
    }
    return { status: 200, body };
  }
}
