// Reads what a page says about itself for a link preview. htmlparser2 is forgiving in the way pages
// need (unclosed tags, unquoted attributes, stray markup), and nothing here executes or fetches.
// Precedence follows what chat apps do: Open Graph, then Twitter Card, then plain HTML.
import { Parser } from 'htmlparser2';
import { LIMITS } from '../../core/limits';
import { cleanText } from './clean-text';
import { decodeHtml } from './decode-html';

export interface PageMetadata {
  title?: string;
  description?: string;
  siteName?: string;
  /** Absolute http(s) URL of the suggested image. */
  imageUrl?: string;
}

export interface ExtractOptions {
  /** The response's Content-Type, whose charset outranks a <meta charset>. */
  contentType?: string;
}

const IMAGE_KEYS = ['og:image:secure_url', 'og:image', 'og:image:url', 'twitter:image', 'twitter:image:src'] as const;

interface Collected {
  /** First value seen for each lower-cased meta property/name. */
  meta: Map<string, string>;
  title?: string;
  baseHref?: string;
  imageSrcLink?: string;
}

export function extractMetadata(html: string | Uint8Array, pageUrl: string, options: ExtractOptions = {}): PageMetadata {
  const text = typeof html === 'string' ? html : decodeHtml(html, options.contentType);
  const found = collect(text);
  const page = new URL(pageUrl);
  const baseHref = resolveHttp(found.baseHref, page);
  const base = baseHref === undefined ? page : new URL(baseHref);
  const meta = (key: string) => found.meta.get(key);
  const result: PageMetadata = {};
  const title = firstText([meta('og:title'), meta('twitter:title'), found.title], LIMITS.titleChars);
  const description = firstText([meta('og:description'), meta('twitter:description'), meta('description')], LIMITS.descriptionChars);
  const siteName = firstText([meta('og:site_name'), meta('application-name'), page.hostname.replace(/^www\./, '')], LIMITS.siteNameChars);
  const imageUrl = [...IMAGE_KEYS.map(meta), found.imageSrcLink].map((href) => resolveHttp(href, base)).find((u) => u !== undefined);
  if (title !== undefined) result.title = title;
  if (description !== undefined) result.description = description;
  if (siteName !== undefined) result.siteName = siteName;
  if (imageUrl !== undefined) result.imageUrl = imageUrl;
  return result;
}

function collect(text: string): Collected {
  const found: Collected = { meta: new Map() };
  let titleText: string | undefined;
  // An <svg> can carry its own <title>, which names the drawing, not the page.
  let svgDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (name === 'svg') svgDepth++;
        else if (name === 'meta') remember(found.meta, attribs);
        else if (name === 'title' && svgDepth === 0 && found.title === undefined && titleText === undefined) titleText = '';
        else if (name === 'base' && found.baseHref === undefined && attribs.href !== undefined) found.baseHref = attribs.href;
        else if (name === 'link' && found.imageSrcLink === undefined && hasToken(attribs.rel, 'image_src')) found.imageSrcLink = attribs.href;
      },
      ontext(data) {
        if (titleText !== undefined) titleText += data;
      },
      onclosetag(name) {
        if (name === 'svg' && svgDepth > 0) svgDepth--;
        else if (name === 'title' && titleText !== undefined) {
          found.title = titleText;
          titleText = undefined;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(text);
  parser.end();
  return found;
}

/** The first candidate with any visible text: a blank og:title must not hide a good <title>. */
function firstText(candidates: readonly (string | undefined)[], maxChars: number): string | undefined {
  for (const candidate of candidates) {
    const text = cleanText(candidate, maxChars);
    if (text !== undefined) return text;
  }
  return undefined;
}

function remember(meta: Map<string, string>, attribs: Record<string, string>): void {
  const content = attribs.content;
  if (content === undefined) return;
  // Pages mix property= (Open Graph's spelling) and name= (Twitter's, and many OG tags in the wild).
  for (const key of [attribs.property, attribs.name]) {
    const k = key?.trim().toLowerCase();
    if (k !== undefined && k !== '' && !meta.has(k)) meta.set(k, content);
  }
}

function hasToken(list: string | undefined, token: string): boolean {
  return (list ?? '').toLowerCase().split(/\s+/).includes(token);
}

function resolveHttp(href: string | undefined, base: URL): string | undefined {
  const trimmed = href?.trim();
  if (trimmed === undefined || trimmed === '') return undefined;
  try {
    const url = new URL(trimmed, base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.href.length > LIMITS.linkChars) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}
