// Server configuration from environment variables, validated once at start with clear messages.
import { z } from 'zod';
import { PUBLIC_POW_BITS } from '../protocol/change-policy';
import { isAuthorKey, type AuthorKey } from '../core/ids';
import { LABEL_VALUES, type LabelValue } from '../crdt/label';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  NETWORK: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/).default('lodestone'),
  ICE_SERVERS: z.string().default(''),
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** `off` runs signaling only, with no server replica. */
  REPLICA: z.enum(['on', 'off']).default('on'),
  PEERS: z.string().default(''),
  /**
   * Test-only: lets /api/unfurl fetch from loopback addresses (127.0.0.0/8, ::1), so tests can serve
   * fixture pages locally. Never set it on a real instance: it opens the server's own ports to anyone.
   */
  UNFURL_ALLOW_LOOPBACK: z.enum(['0', '1']).default('0'),
  /**
   * Instances found through the DHT: `connect` replicates with them (public addresses only), `list`
   * only shows them in /api/health, `off` does not look.
   */
  INSTANCE_DISCOVERY: z.enum(['connect', 'list', 'off']).default('connect'),
  INSTANCE_SEARCH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Browsers this instance is a DHT neighbour of at once; 0 keeps it out of its browsers' DHT. */
  DHT_BROWSER_LINKS: z.coerce.number().int().min(0).max(1000).default(32),
  /**
   * The proof of work (leading zero bits) this instance's network asks of every new entry: a rule of
   * the network, so every instance and browser of one network must use the same. 0 asks for none
   * (private or test networks only: anyone could then flood it with free entries).
   */
  POW_BITS: z.coerce.number().int().min(0).max(28).default(PUBLIC_POW_BITS),
  /**
   * New entries this instance keeps per author per hour (those created in the last day; older ones are
   * history a catch-up brings). Past it, an author's entries wait and are taken later. 0: no limit.
   */
  AUTHOR_HOURLY_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(60),
  /** ... of which at most this many at once (then at the hourly rate). */
  AUTHOR_BURST: z.coerce.number().int().min(1).max(1_000_000).default(10),
  /** Labelers whose labels this instance honours besides its operator's: comma-separated keys (64 hex). */
  LABELERS: z.string().default(''),
  /** Label values that take a subject down on this instance (the rest are for browsers to hide or warn). */
  TAKEDOWN_LABELS: z.string().default('illegal,spam'),
  /** Test-only, like UNFURL_ALLOW_LOOPBACK: found instances on loopback addresses may be dialled. */
  INSTANCE_ALLOW_LOOPBACK: z.enum(['0', '1']).default('0'),
});

export type ServerConfig = z.infer<typeof schema> & { iceServers: RTCIceServerConfig[]; peers: string[]; labelers: AuthorKey[]; takedownLabels: LabelValue[] };

function parseList<T extends string>(name: string, raw: string, ok: (s: string) => boolean, what: string): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of items) if (!ok(s)) throw new Error(`${name}: "${s}" is not ${what}`);
  return items as T[];
}

function parsePeers(raw: string): string[] {
  const urls = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new Error(`PEERS: "${u}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`PEERS: "${u}" must be http:// or https://`);
  }
  return urls;
}

/** What browsers get as RTCPeerConnection iceServers: empty unless configured (never a public default). */
export interface RTCIceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

const iceSchema = z.array(
  z.object({
    urls: z.union([z.string().regex(/^(stun|turns?):/), z.array(z.string().regex(/^(stun|turns?):/)).min(1)]),
    username: z.string().optional(),
    credential: z.string().optional(),
  }),
);

/**
 * ICE_SERVERS is either JSON (a list of RTCIceServer objects: urls, username, credential) or a
 * comma-separated list of STUN/TURN URLs. See the README for examples.
 */
export function parseIceServers(raw: string): RTCIceServerConfig[] {
  const text = raw.trim();
  if (text === '') return [];
  if (text.startsWith('[')) {
    const parsed = iceSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`ICE_SERVERS is not a valid list of ICE servers: ${parsed.error.message}`);
    return parsed.data;
  }
  return iceSchema.parse(text.split(',').map((u) => ({ urls: u.trim() })));
}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const r = schema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  return {
    ...r.data,
    iceServers: parseIceServers(r.data.ICE_SERVERS),
    peers: parsePeers(r.data.PEERS),
    labelers: parseList<AuthorKey>('LABELERS', r.data.LABELERS, isAuthorKey, 'a labeler key (64 hex)'),
    takedownLabels: parseList<LabelValue>('TAKEDOWN_LABELS', r.data.TAKEDOWN_LABELS, (s) => (LABEL_VALUES as readonly string[]).includes(s), `one of ${LABEL_VALUES.join(', ')}`),
  };
}
