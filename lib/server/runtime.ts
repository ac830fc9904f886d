// What route handlers may read about the running server. server.ts and Next's bundled route code are
// separate module graphs in one process, so the runtime is shared through a global symbol.
export interface ServerRuntime {
  version: string;
  startedAt: number;
  network: string;
  iceServers: unknown[];
  signalingPeers(): number;
}

const KEY = Symbol.for('lodestone.server.runtime');

export function setServerRuntime(runtime: ServerRuntime): void {
  (globalThis as Record<symbol, unknown>)[KEY] = runtime;
}

export function getServerRuntime(): ServerRuntime | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as ServerRuntime | undefined;
}
