// The link unfurler behind /api/unfurl: fetch a page under the fetch policy, read its metadata, and
// turn its suggested image into a preview blob. The image is a bonus: when it cannot be used, the
// preview still comes back, saying why it has no image.
import { sha256Hex } from '../../core/hash';
import { silentLogger, type Logger } from '../../core/logger';
import type { Connector } from './connector';
import { FetchRefused, ImageRefused } from './errors';
import { DEFAULT_MAX_INPUT_BYTES, reencodePreviewImage } from './image';
import { extractMetadata } from './metadata';
import type { Resolver } from './resolve';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, safeFetch, type SafeFetchOptions } from './safe-fetch';

export interface UnfurlerOptions {
  /** Test-only: lets fixture servers on loopback be fetched. */
  allowLoopback?: boolean;
  resolve?: Resolver;
  connect?: Connector;
  /** Deadline for each fetch (the page, then its image), redirects included. */
  timeoutMs?: number;
  maxHtmlBytes?: number;
  maxImageBytes?: number;
  logger?: Logger;
}

export interface UnfurlImage {
  bytes: Uint8Array;
  type: 'image/webp';
  width: number;
  height: number;
  /** Hex SHA-256 of `bytes`, the name the preview blob is stored under. */
  sha256: string;
}

export interface UnfurlResult {
  /** The page's final URL, after redirects. */
  url: string;
  title?: string;
  description?: string;
  siteName?: string;
  image?: UnfurlImage;
  /** Why the page's suggested image is missing from the result, in words for the person posting. */
  imageError?: string;
}

export interface Unfurler {
  unfurl(url: string): Promise<UnfurlResult>;
}

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const IMAGE_ACCEPT = 'image/webp,image/avif,image/png,image/jpeg,image/gif;q=0.9,*/*;q=0.1';

export function createUnfurler(options: UnfurlerOptions = {}): Unfurler {
  const log = (options.logger ?? silentLogger).child('unfurl');
  const fetchPolicy: SafeFetchOptions = {
    allowLoopback: options.allowLoopback === true,
    resolve: options.resolve,
    connect: options.connect,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const maxImageBytes = options.maxImageBytes ?? DEFAULT_MAX_INPUT_BYTES;

  async function fetchPage(url: string) {
    return safeFetch(url, {
      ...fetchPolicy,
      maxBytes: options.maxHtmlBytes ?? DEFAULT_MAX_BYTES,
      overflow: 'truncate',
      noun: 'page',
      checkResponse: ({ contentType }) => {
        const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
        if (HTML_TYPES.has(mediaType)) return;
        throw new FetchRefused(
          'not-html',
          mediaType === ''
            ? 'The website did not say what kind of document the link is; only web pages (HTML) can be previewed.'
            : `The link is not a web page (it is ${mediaType}); only web pages (HTML) can be previewed.`,
        );
      },
    });
  }

  async function previewImage(imageUrl: string): Promise<UnfurlImage> {
    const fetched = await safeFetch(imageUrl, { ...fetchPolicy, maxBytes: maxImageBytes, overflow: 'refuse', accept: IMAGE_ACCEPT, noun: 'image' });
    const image = await reencodePreviewImage(fetched.body, { maxInputBytes: maxImageBytes });
    return { ...image, sha256: sha256Hex(image.bytes) };
  }

  return {
    async unfurl(url) {
      let page;
      try {
        page = await fetchPage(url);
      } catch (error) {
        if (error instanceof FetchRefused) log.debug('page refused', { code: error.code });
        else log.warn('page fetch failed unexpectedly', { error: String(error) });
        throw error;
      }
      const { imageUrl, ...text } = extractMetadata(page.body, page.finalUrl, { contentType: page.contentType });
      const result: UnfurlResult = { url: page.finalUrl, ...text };
      if (imageUrl === undefined) return result;
      try {
        result.image = await previewImage(imageUrl);
      } catch (error) {
        if (error instanceof FetchRefused || error instanceof ImageRefused) {
          log.debug('preview image refused', { code: error.code });
          result.imageError = error.message;
        } else {
          log.warn('preview image failed unexpectedly', { error: String(error) });
          result.imageError = 'The suggested image could not be used.';
        }
      }
      return result;
    },
  };
}
