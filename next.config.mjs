// Automerge loads its WebAssembly from its own package directory on the server, so Next must leave it
// unbundled there (STACK-NOTES: without this, server code cannot find the .wasm file). simple-peer's
// Node polyfill pulls a native addon that the server bundle cannot place; the browser never loads it.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ['@automerge/automerge', '@thaunknown/simple-peer', 'webrtc-polyfill', 'node-datachannel', 'better-sqlite3'],
  turbopack: {},
  // The build checks what it ships; `npm test` type-checks the whole project (tests, e2e, bench) itself.
  typescript: { tsconfigPath: 'tsconfig.app.json' },
};
export default nextConfig;
