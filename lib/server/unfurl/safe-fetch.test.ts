// safeFetch against a real server on 127.0.0.1 (loopback allowed, as only tests may) and against the
// fake network where a test must prove something was never contacted.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchRefused } from './errors';
import { ConnectorSpy, tableResolver } from './fixtures/fake-network';
import { endless, html, redirect, stalled, startFixtureServer, type FixtureServer } from './fixtures/fixture-server';
import { PUBLIC_ADDRESS } from './fixtures/ssrf-cases';
import { safeFetch, USER_AGENT } from './safe-fetch';
import { parseTarget } from './target';
import { rejectionOf } from './fixtures/rejection';

let server: FixtureServer;
let endlessBytesWritten = 0;
const zeroChunk = new Uint8Array(16 * 1024).fill(0x20);

beforeAll(async () => {
  server = await startFixtureServer({
    '/page': html('<title>Hello</title>'),
    '/r1': redirect('/page'),
    '/r2': redirect('r1'),
    '/r3': redirect('./r2', 301),
    '/r4': redirect('/r3', 307),
    '/see-other': redirect('/page', 303),
    '/redirect-nowhere': (_req, res) => {
      res.writeHead(302).end();
    },
    '/cookie-redirect': (_req, res) => {
      res.writeHead(302, { location: '/page', 'set-cookie': 'session=secret; Path=/' }).end();
    },
    '/missing': (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not here</title>');
    },
    '/stalled': stalled('<html><head><title>Slow'),
    '/endless': (req, res) => {
      const write = res.write.bind(res);
      res.write = ((chunk: Uint8Array | string, ...rest: never[]) => {
        endlessBytesWritten += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
        return write(chunk, ...rest);
      }) as typeof res.write;
      endless('<html><head><title>Endless</title></head><body>', zeroChunk)(req, res);
    },
    '/declared-large': (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(10 * 1024 * 1024) });
      res.write(new Uint8Array(1024));
    },
    '/streamed-large': (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(new Uint8Array(200 * 1024));
    },
    '/gzip': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(gzipSync('<title>Compressed</title>'));
    },
    '/bad-gzip': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end('this is not gzip at all');
    },
    '/gzip-bomb': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(gzipSync(new Uint8Array(64 * 1024 * 1024)));
    },
  });
});

afterAll(async () => {
  await server.close();
});

const loopback = { allowLoopback: true } as const;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const refusal = (promise: Promise<unknown>) => rejectionOf(promise, FetchRefused);

describe('safeFetch on a loopback fixture server', () => {
  it('fetches a page and sends the bot headers, and no cookies', async () => {
    const seen = server.nextRequest('/page');
    const result = await safeFetch(`${server.origin}/page`, loopback);
    expect(result).toMatchObject({ finalUrl: `${server.origin}/page`, status: 200, contentType: 'text/html; charset=utf-8', truncated: false });
    expect(text(result.body)).toBe('<title>Hello</title>');
    const { headers } = await seen;
    expect(headers['user-agent']).toBe(USER_AGENT);
    expect(headers.accept).toContain('text/html');
    expect(headers.cookie).toBeUndefined();
    expect(headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('connects to the checked address while keeping the host name in Host', async () => {
    // pinned.test does not exist in any DNS: reaching the fixture proves the socket went to the pinned address.
    const resolve = tableResolver({ 'pinned.test': ['127.0.0.1'] });
    const seen = server.nextRequest('/page');
    const result = await safeFetch(`http://pinned.test:${server.port}/page`, { ...loopback, resolve });
    expect(text(result.body)).toBe('<title>Hello</title>');
    expect((await seen).headers.host).toBe(`pinned.test:${server.port}`);
    expect(resolve.calls).toEqual(['pinned.test']);
  });

  it.each(['http://2130706433/', 'http://0x7f000001/', 'http://0177.0.0.1/', 'http://127.1/', 'http://0x7f.1/', 'http://0x7F.0.0.1/'])(
    'reads %s as 127.0.0.1, like a browser',
    (url) => {
      expect(parseTarget(url).hostname).toBe('127.0.0.1');
    },
  );

  it('really connects to 127.0.0.1 for a hexadecimal host', async () => {
    const result = await safeFetch(`http://0x7f.1:${server.port}/page`, loopback);
    expect(result.finalUrl).toBe(`${server.origin}/page`);
  });

  it('follows up to 3 redirects, relative ones included', async () => {
    const result = await safeFetch(`${server.origin}/r3`, loopback);
    expect(result.finalUrl).toBe(`${server.origin}/page`);
    expect(text(result.body)).toBe('<title>Hello</title>');
    expect((await safeFetch(`${server.origin}/see-other`, loopback)).finalUrl).toBe(`${server.origin}/page`);
  });

  it('refuses a 4th redirect without following it', async () => {
    const before = server.requests.length;
    const error = await refusal(safeFetch(`${server.origin}/r4`, loopback));
    expect(error.code).toBe('too-many-redirects');
    expect(error.message).toBe('The link redirected more than 3 times.');
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/r4', '/r3', '/r2', '/r1']);
  });

  it('does not carry cookies across a redirect', async () => {
    const seen = server.nextRequest('/page');
    await safeFetch(`${server.origin}/cookie-redirect`, loopback);
    expect((await seen).headers.cookie).toBeUndefined();
  });

  it('refuses a redirect that names no destination', async () => {
    expect((await refusal(safeFetch(`${server.origin}/redirect-nowhere`, loopback))).code).toBe('http-status');
  });

  it('refuses an error status and says which', async () => {
    const error = await refusal(safeFetch(`${server.origin}/missing`, loopback));
    expect(error.code).toBe('http-status');
    expect(error.message).toBe('The website answered with HTTP 404 (Not Found).');
  });

  it('gives up on a page that never finishes, and hangs up', async () => {
    const seen = server.nextRequest('/stalled');
    const error = await refusal(safeFetch(`${server.origin}/stalled`, { ...loopback, timeoutMs: 300 }));
    expect(error.code).toBe('timeout');
    expect(error.message).toBe('The website did not answer within 0.3 seconds.');
    await (await seen).closed;
  });

  it('stops reading an endless page at the cap and closes the connection', async () => {
    const seen = server.nextRequest('/endless');
    const result = await safeFetch(`${server.origin}/endless`, { ...loopback, maxBytes: 64 * 1024 });
    expect(result.truncated).toBe(true);
    expect(result.body.byteLength).toBe(64 * 1024);
    expect(text(result.body)).toContain('<title>Endless</title>');
    await (await seen).closed;
    // Socket buffers hold some megabytes at most; a reader that did not stop would never let this finish.
    expect(endlessBytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a body declared larger than the cap before reading it', async () => {
    const error = await refusal(safeFetch(`${server.origin}/declared-large`, { ...loopback, maxBytes: 64 * 1024, overflow: 'refuse', noun: 'image' }));
    expect(error.code).toBe('too-large');
    expect(error.message).toBe('The image is larger than 64 KB.');
  });

  it('refuses a streamed body that grows past the cap', async () => {
    const error = await refusal(safeFetch(`${server.origin}/streamed-large`, { ...loopback, maxBytes: 64 * 1024, overflow: 'refuse' }));
    expect(error.code).toBe('too-large');
  });

  it('decompresses gzip, and caps what it inflates', async () => {
    expect(text((await safeFetch(`${server.origin}/gzip`, loopback)).body)).toBe('<title>Compressed</title>');
    const bomb = await safeFetch(`${server.origin}/gzip-bomb`, { ...loopback, maxBytes: 1024 * 1024 });
    expect(bomb.truncated).toBe(true);
    expect(bomb.body.byteLength).toBe(1024 * 1024);
  });

  it('reports a body that does not decompress as malformed', async () => {
    const error = await refusal(safeFetch(`${server.origin}/bad-gzip`, loopback));
    expect(error).toMatchObject({ code: 'network', message: 'The website sent a malformed response.' });
  });

  it('reports a refused connection as a network error', async () => {
    const closed = createServer();
    await new Promise<void>((ready) => closed.listen(0, '127.0.0.1', ready));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const error = await refusal(safeFetch(`http://127.0.0.1:${port}/`, loopback));
    expect(error.code).toBe('network');
    expect(error.message).toBe('The website refused the connection.');
  });
});

describe('safeFetch policy on the fake network', () => {
  it('with allowLoopback, still refuses a non-web port on a public host', async () => {
    const spy = new ConnectorSpy();
    const error = await refusal(safeFetch('http://public.example:3000/', { ...loopback, resolve: tableResolver({ 'public.example': [PUBLIC_ADDRESS] }), connect: spy.connect }));
    expect(error.code).toBe('port');
    expect(spy.connections).toEqual([]);
  });

  it('with allowLoopback, still refuses private addresses', async () => {
    const spy = new ConnectorSpy();
    for (const url of ['http://10.0.0.1/', 'http://[fd00::1]/', 'http://169.254.169.254/']) {
      expect((await refusal(safeFetch(url, { ...loopback, connect: spy.connect }))).code).toBe('forbidden-address');
    }
    expect(spy.connections).toEqual([]);
  });

  it('refuses a host name that does not resolve', async () => {
    const error = await refusal(safeFetch('http://nowhere.example/', { resolve: tableResolver({}), connect: new ConnectorSpy().connect }));
    expect(error.code).toBe('dns');
    expect(error.message).toBe("The website's name (nowhere.example) could not be found.");
  });

  it('times out a resolver that never answers, without connecting', async () => {
    const spy = new ConnectorSpy();
    const error = await refusal(safeFetch('http://hang.example/', { resolve: () => new Promise(() => {}), connect: spy.connect, timeoutMs: 50 }));
    expect(error.code).toBe('timeout');
    expect(spy.connections).toEqual([]);
  });

  it('times out a connector that ignores its signal', async () => {
    const error = await refusal(
      safeFetch('http://public.example/', {
        resolve: tableResolver({ 'public.example': [PUBLIC_ADDRESS] }),
        connect: () => new Promise(() => {}),
        timeoutMs: 50,
      }),
    );
    expect(error.code).toBe('timeout');
  });

  it('tries the next checked address when one cannot be reached', async () => {
    const spy = new ConnectorSpy().answer('2606:2800:220:1::1', 'http://two.example/', { status: 200, headers: { 'content-type': 'text/html' }, body: 'ok' });
    const result = await safeFetch('http://two.example/', { resolve: tableResolver({ 'two.example': [PUBLIC_ADDRESS, '2606:2800:220:1::1'] }), connect: spy.connect });
    expect(text(result.body)).toBe('ok');
    expect(spy.connections.map((c) => [c.address, c.family])).toEqual([
      [PUBLIC_ADDRESS, 4],
      ['2606:2800:220:1::1', 6],
    ]);
  });

  it.each([
    ['not a url', 'bad-url', 'not a url'],
    ['a 3000-character link', 'bad-url', `http://example.com/${'a'.repeat(3000)}`],
    ['javascript:', 'scheme', 'javascript:alert(1)'],
    ['data:', 'scheme', 'data:text/html,hi'],
    ['a user name', 'credentials', 'http://user@example.com/'],
    ['port 6379', 'port', 'http://example.com:6379/'],
  ] as const)('refuses %s with %s', async (_label, code, url) => {
    const spy = new ConnectorSpy();
    const resolve = tableResolver({ 'example.com': [PUBLIC_ADDRESS] });
    expect((await refusal(safeFetch(url, { resolve, connect: spy.connect }))).code).toBe(code);
    expect(spy.connections).toEqual([]);
    expect(resolve.calls).toEqual([]);
  });

  it('passes a caller cancellation through', async () => {
    const controller = new AbortController();
    const reason = new Error('client went away');
    const pending = safeFetch('http://hang.example/', { resolve: () => new Promise(() => {}), signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
