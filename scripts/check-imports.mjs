// Enforces DESIGN.md's import direction: the pure core (lib/core, lib/crdt, lib/protocol, lib/net)
// imports no DOM, Node, React, RxDB, simple-peer or Socket.IO module, and no adapter folder.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PURE = ['lib/core', 'lib/crdt', 'lib/protocol', 'lib/net', 'lib/discovery/dht'];
const ALLOWED_PACKAGES = ['@automerge/automerge/slim', 'zod', '@noble/hashes/sha2.js', 'magnet-uri', 'image-size', 'fflate'];
const FORBIDDEN_DIRS = ['lib/client', 'lib/server', 'lib/storage', 'lib/transports', 'lib/discovery', 'lib/testing', 'components', 'app', 'wasm'];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) yield path;
  }
}

export function findViolations() {
  const violations = [];
  for (const dir of PURE) {
    for (const file of files(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:^|;)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|;)\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
        const spec = m[1] ?? m[2] ?? m[3];
        const rel = relative(root, file);
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), spec));
          const inside = (dirs) => dirs.some((d) => target === d || target.startsWith(`${d}/`));
          if (inside(FORBIDDEN_DIRS) && !inside(PURE)) violations.push(`${rel}: imports ${spec} (an adapter or UI module)`);
        } else if (!ALLOWED_PACKAGES.includes(spec)) {
          violations.push(`${rel}: imports ${spec} (not allowed in the pure core)`);
        }
      }
    }
  }
  return violations;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const v = findViolations();
  for (const line of v) console.error(line);
  console.log(v.length === 0 ? 'import rules: ok' : `import rules: ${v.length} violations`);
  process.exit(v.length === 0 ? 0 : 1);
}
