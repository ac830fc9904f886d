// The Content-Security-Policy is a second wall behind text-only rendering: even markup that reached
// the DOM could not run inline script.
import { expect, test } from './fixtures';

test('pages carry a nonce-based CSP that blocks injected inline script', async ({ server, openPeer }) => {
  const res = await fetch(`${server.url}/`);
  const csp = res.headers.get('content-security-policy') ?? '';
  const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src')) ?? '';
  expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9+/=]+'/);
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');

  const peer = await openPeer('A');
  // Markup injected the way an XSS would be (not script-created elements, which 'strict-dynamic'
  // deliberately trusts because only a script that already runs can create them).
  const violations: string[] = [];
  await peer.page.exposeFunction('reportViolation', (v: string) => violations.push(v));
  await peer.page.evaluate(() => {
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { reportViolation: (v: string) => void }).reportViolation(e.violatedDirective));
    const holder = document.createElement('div');
    holder.innerHTML = '<img src="data:," onerror="window.__csp = 1"><a id="js" href="javascript:window.__csp=2">x</a>';
    document.body.append(holder);
    (document.getElementById('js') as HTMLAnchorElement).click();
  });
  await expect.poll(() => violations.length, { message: 'the browser reports the blocked inline scripts' }).toBeGreaterThanOrEqual(2);
  expect(await peer.page.evaluate(() => (window as unknown as { __csp?: number }).__csp)).toBeUndefined();
});
