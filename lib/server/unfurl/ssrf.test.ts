// Every SSRF_CASES row must be refused with its code and without a connection to anything but the
// public first hop of a redirect. A control row that is allowed through proves the harness itself
// does not refuse everything.
import { describe, expect, it } from 'vitest';
import { ConnectorSpy, tableResolver } from './fixtures/fake-network';
import { PUBLIC_ADDRESS, SSRF_CASES, runSsrfCase } from './fixtures/ssrf-cases';
import { createUnfurler } from './unfurl';

describe('SSRF table (loopback not allowed, fake network only)', () => {
  it('has at least 24 rows', () => {
    expect(SSRF_CASES.length).toBeGreaterThanOrEqual(24);
  });

  it.each(SSRF_CASES.map((c) => [c.name, c] as const))('refuses %s', async (_name, c) => {
    const outcome = await runSsrfCase(c);
    expect(outcome.code).toBe(c.code);
    expect(outcome.message.length).toBeGreaterThan(20);
    expect(outcome.connections).toHaveLength(c.connections);
    for (const connection of outcome.connections) expect(connection.startsWith(`${PUBLIC_ADDRESS} `)).toBe(true);
    expect(outcome.passed).toBe(true);
  });

  it('says in words why a private address is refused', async () => {
    const outcome = await runSsrfCase({ name: 'private', url: 'http://10.0.0.1/', code: 'forbidden-address', connections: 0 });
    expect(outcome.message).toBe('That address is on a private network; previews are only fetched from public websites.');
  });

  it('lets the same fake network serve a public page (control)', async () => {
    const spy = new ConnectorSpy().answer(PUBLIC_ADDRESS, 'http://public.example/', {
      status: 302,
      headers: { location: '/landing' },
    });
    spy.answer(PUBLIC_ADDRESS, 'http://public.example/landing', {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: '<title>Public page</title>',
    });
    const resolve = tableResolver({ 'public.example': [PUBLIC_ADDRESS] });
    const result = await createUnfurler({ resolve, connect: spy.connect }).unfurl('http://public.example/');
    expect(result).toEqual({ url: 'http://public.example/landing', title: 'Public page', siteName: 'public.example' });
    expect(spy.connections.map((c) => c.address)).toEqual([PUBLIC_ADDRESS, PUBLIC_ADDRESS]);
    expect(resolve.calls).toEqual(['public.example', 'public.example']);
  });

  it('never asks the resolver about an IP literal', async () => {
    const resolve = tableResolver({});
    const spy = new ConnectorSpy();
    await expect(createUnfurler({ resolve, connect: spy.connect }).unfurl('http://[::ffff:7f00:1]/')).rejects.toMatchObject({ code: 'forbidden-address' });
    expect(resolve.calls).toEqual([]);
    expect(spy.connections).toEqual([]);
  });
});
