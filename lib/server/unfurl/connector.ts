// The seam between the fetch policy and the network. The policy decides which address is safe; the
// connector must connect to exactly that address and no other, so a second DNS answer (rebinding)
// can never redirect the socket after the check.
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf } from './target';

export interface ConnectTarget {
  url: URL;
  /** The checked address; the connection must go here, whatever the host name resolves to now. */
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  signal: AbortSignal;
}

export interface ConnectResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array>;
}

export type Connector = (target: ConnectTarget) => Promise<ConnectResponse>;

export interface NodeConnectorOptions {
  /** Certificate authorities to trust instead of the system's; for tests with their own certificate. */
  ca?: string;
}

/** node:http(s) with the resolved address pinned through `lookup`; Host and TLS SNI stay the host name. */
export function createNodeConnector(options: NodeConnectorOptions = {}): Connector {
  return ({ url, address, family, headers, signal }) =>
    new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const host = hostOf(url);
      const request = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: host,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers,
        // A fresh agent per request: no pooled socket outlives the fetch or carries over to another host.
        agent: false,
        signal,
        lookup: pinnedLookup(address, family),
        // Certificates are checked against the name the user asked for, not the address.
        ...(secure && isIP(host) === 0 ? { servername: host } : {}),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      });
      request.once('response', (response) => {
        // Errors still reach the reader through the iterator; this only keeps a late one (the socket
        // torn down after the fetch is finished) from becoming an uncaught exception.
        response.on('error', () => {});
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
      });
      // `on`, not `once`: aborting a finished request emits a second error nobody else listens for.
      request.on('error', reject);
      request.end();
    });
}

export const nodeConnector: Connector = createNodeConnector();

/** A `lookup` that answers every question with the one address already checked. */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    // Happy-eyeballs connections ask for every address at once; plain ones for a single one.
    if (options.all === true) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
