// The part of the server's configuration that browsers need, read per request from the environment.
import type { ClientConfig } from '../client/node';
import { loadConfig } from './config';

export function getClientConfig(): ClientConfig {
  const config = loadConfig();
  return { network: config.NETWORK, iceServers: config.iceServers, powBits: config.POW_BITS };
}
