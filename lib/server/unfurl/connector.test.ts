// The node connector goes to the pinned address while the host name stays in Host, in TLS SNI and in
// the certificate check. The certificate (fixtures/tls-*.pem, self-signed, valid until 2126) names
// only "pinned.test", a name no DNS knows: reaching the server at all proves the address was pinned.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeConnector } from './connector';
import { FetchRefused } from './errors';
import { tableResolver } from './fixtures/fake-network';
import { safeFetch } from './safe-fetch';

const cert = readFileSync(new URL('./fixtures/tls-cert.pem', import.meta.url), 'utf8');
const key = readFileSync(new URL('./fixtures/tls-key.pem', import.meta.url), 'utf8');

let server: Server;
let port: number;
const seen: Array<{ host?: string; servername: string | false | null | undefined }> = [];

beforeAll(async () => {
  server = createServer({ cert, key }, (req, res) => {
    seen.push({ host: req.headers.host, servername: (req.socket as TLSSocket).servername });
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>secure</title>');
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
});

const connect = createNodeConnector({ ca: cert });
const resolve = tableResolver({ 'pinned.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });

describe('node connector over TLS', () => {
  it('connects to the pinned address with the host name as SNI, Host and certificate name', async () => {
    seen.length = 0;
    const result = await safeFetch(`https://pinned.test:${port}/`, { allowLoopback: true, resolve, connect });
    expect(new TextDecoder().decode(result.body)).toBe('<title>secure</title>');
    expect(seen).toEqual([{ host: `pinned.test:${port}`, servername: 'pinned.test' }]);
  });

  it('refuses a certificate that does not name the host, even at the right address', async () => {
    const error = await safeFetch(`https://other.test:${port}/`, { allowLoopback: true, resolve, connect }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchRefused);
    expect(error).toMatchObject({ code: 'network', message: "The website's secure connection could not be verified." });
  });

  it('refuses a certificate it has no reason to trust', async () => {
    const error = await safeFetch(`https://pinned.test:${port}/`, { allowLoopback: true, resolve, connect: createNodeConnector() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'network', message: "The website's secure connection could not be verified." });
  });
});
