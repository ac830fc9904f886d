// Structured logs on the server: pino behind the core Logger interface.
import pino from 'pino';
import type { Logger, LogLevel } from '../core/logger';
import { escapeUnsafeText } from '../core/unsafe-text';

export function createServerLogger(level: LogLevel): Logger {
  const wrap = (p: pino.Logger): Logger => ({
    debug: (msg, data) => p.debug(data ?? {}, msg),
    info: (msg, data) => p.info(data ?? {}, msg),
    warn: (msg, data) => p.warn(data ?? {}, msg),
    error: (msg, data) => p.error(data ?? {}, msg),
    child: (ns) => wrap(p.child({ ns })),
  });
  // JSON escapes C0 controls but not C1 (U+009B is a terminal's CSI), the line separators or the bidi
  // controls: text from peers (titles, reasons, peer-sent strings) must not steer the terminal or the
  // log viewer that shows these lines.
  return wrap(pino({ level, base: { app: 'lodestone' }, hooks: { streamWrite: escapeUnsafeText } }));
}
