// One injectable, namespaced logger interface; runtimes plug in pino (server) or the console (browser).
export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  child(namespace: string): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** A console logger for the browser and for debugging tests. */
export function consoleLogger(namespace = 'lodestone', level: LogLevel = 'info'): Logger {
  const at = ORDER[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>) => {
    if (ORDER[lvl] < at) return;
    const fn = lvl === 'debug' ? console.debug : lvl === 'info' ? console.info : lvl === 'warn' ? console.warn : console.error;
    if (data) fn(`[${namespace}] ${msg}`, data);
    else fn(`[${namespace}] ${msg}`);
  };
  return {
    debug: (m, d) => emit('debug', m, d),
    info: (m, d) => emit('info', m, d),
    warn: (m, d) => emit('warn', m, d),
    error: (m, d) => emit('error', m, d),
    child: (ns) => consoleLogger(`${namespace}:${ns}`, level),
  };
}
