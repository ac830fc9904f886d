// The browser's one place that loads Automerge's WebAssembly: the slim build plus an explicit init from
// the static file, started once and shared by every caller.
import { initializeWasm, isWasmInitialized } from '@automerge/automerge/slim';

let ready: Promise<void> | undefined;

export function loadAutomerge(): Promise<void> {
  if (isWasmInitialized()) return Promise.resolve();
  ready ??= initializeWasm(new URL('/automerge.wasm', window.location.origin).href).catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return ready;
}
