// Structured logs on the server: pino behind the core Logger interface.
import pino from 'pino';
import type { Logger, LogLevel } from '../core/logger';

export function createServerLogger(level: LogLevel): Logger {
  const wrap = (p: pino.Logger): Logger => ({
    debug: (msg, data) => p.debug(data ?? {}, msg),
    info: (msg, data) => p.info(data ?? {}, msg),
    warn: (msg, data) => p.warn(data ?? {}, msg),
    error: (msg, data) => p.error(data ?? {}, msg),
    child: (ns) => wrap(p.child({ ns })),
  });
  return wrap(pino({ level, base: { app: 'lodestone' } }));
}
