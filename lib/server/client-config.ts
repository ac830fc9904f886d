// The part of the server's configuration that browsers need, read per request from the environment.
import type { ClientConfig } from '../client/node';
import { loadConfig } from './config';
import { getServerRuntime } from './runtime';

export function getClientConfig(): ClientConfig {
  const config = loadConfig();
  // The operator's key, which browsers subscribe to by default: known once the replica is open.
  const operatorKey = getServerRuntime()?.moderation?.operator;
  return { network: config.NETWORK, iceServers: config.iceServers, powBits: config.POW_BITS, operatorKey };
}
