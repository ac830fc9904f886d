import { describe, expect, it } from 'vitest';
import { loadConfig, parseIceServers } from './config';

describe('server configuration', () => {
  it('has sane defaults: no ICE servers, a replica, no peers', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, HOST: '0.0.0.0', DATA_DIR: './data', NETWORK: 'lodestone', REPLICA: 'on', LOG_LEVEL: 'info' });
    expect(c.iceServers).toEqual([]);
    expect(c.peers).toEqual([]);
  });

  it('reads ICE servers as a URL list or as JSON', () => {
    expect(parseIceServers('stun:a.example:3478, turn:b.example:3478')).toEqual([{ urls: 'stun:a.example:3478' }, { urls: 'turn:b.example:3478' }]);
    expect(parseIceServers('[{"urls":["turns:c.example:5349"],"username":"u","credential":"p"}]')).toEqual([
      { urls: ['turns:c.example:5349'], username: 'u', credential: 'p' },
    ]);
    expect(() => parseIceServers('http://not-ice.example')).toThrow();
    expect(() => parseIceServers('[{"urls":"javascript:1"}]')).toThrow(/ICE_SERVERS/);
  });

  it('reads PEERS and refuses what is not an http(s) URL', () => {
    expect(loadConfig({ PEERS: 'http://127.0.0.1:3001, https://other.example' }).peers).toEqual(['http://127.0.0.1:3001', 'https://other.example']);
    expect(() => loadConfig({ PEERS: 'ftp://x.example' })).toThrow(/PEERS/);
    expect(() => loadConfig({ PEERS: 'not a url' })).toThrow(/PEERS/);
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ NETWORK: 'Bad Name!' })).toThrow(/NETWORK/);
    expect(() => loadConfig({ REPLICA: 'maybe' })).toThrow(/REPLICA/);
    expect(() => loadConfig({ PUBLIC_URL: 'nope' })).toThrow(/PUBLIC_URL/);
  });
});
