// Serves Automerge's WebAssembly as a static file (/automerge.wasm), so the browser streams and
// compiles it (the fastest start we measured) instead of decoding a 4.9 MB base64 string.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = createRequire(import.meta.url).resolve('@automerge/automerge/automerge.wasm');
mkdirSync(join(root, 'public'), { recursive: true });
copyFileSync(source, join(root, 'public', 'automerge.wasm'));
