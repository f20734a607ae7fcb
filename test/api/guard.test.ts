import { describe, expect, it } from 'vitest';
import { hostAllowed, isLoopbackHost, parseHostHeader } from '../../src/api/guard.js';

describe('Host guard', () => {
  it('on a loopback bind accepts the loopback names with the bound port only', () => {
    const bind = { host: '127.0.0.1', port: 8081 };
    for (const h of ['127.0.0.1:8081', 'localhost:8081', 'LOCALHOST:8081', '[::1]:8081']) expect(hostAllowed(h, bind), h).toBe(true);
    for (const h of ['evil.example:8081', 'evil.example', '127.0.0.1:8082', '127.0.0.1', 'localhost', '127.0.0.1.nip.io:8081', '', 'a b:8081', '127.0.0.1:8081/x', 'user@127.0.0.1:8081'])
      expect(hostAllowed(h, bind), h).toBe(false);
    expect(hostAllowed(undefined, bind)).toBe(false);
  });

  it('accepts a missing port only when bound to port 80', () => {
    expect(hostAllowed('localhost', { host: 'localhost', port: 80 })).toBe(true);
    expect(hostAllowed('localhost:80', { host: '::1', port: 80 })).toBe(true);
  });

  it('on a specific non-loopback bind accepts exactly that host', () => {
    const bind = { host: '192.168.1.5', port: 9000 };
    expect(hostAllowed('192.168.1.5:9000', bind)).toBe(true);
    expect(hostAllowed('localhost:9000', bind)).toBe(false);
    expect(hostAllowed('10.0.0.1:9000', bind)).toBe(false);
    expect(hostAllowed('box.lan:9000', { host: 'box.lan', port: 9000 })).toBe(true);
  });

  it('on a wildcard bind accepts IP literals and localhost, never a DNS name', () => {
    const bind = { host: '0.0.0.0', port: 8081 };
    expect(hostAllowed('192.168.1.5:8081', bind)).toBe(true);
    expect(hostAllowed('[fe80::1]:8081', { host: '::', port: 8081 })).toBe(true);
    expect(hostAllowed('localhost:8081', bind)).toBe(true);
    expect(hostAllowed('evil.example:8081', bind)).toBe(false);
    expect(hostAllowed('192.168.1.5:8082', bind)).toBe(false);
  });

  it('knows loopback addresses', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('parses Host headers', () => {
    expect(parseHostHeader('[::1]:8081')).toEqual({ name: '::1', port: 8081 });
    expect(parseHostHeader('Example.COM')).toEqual({ name: 'example.com', port: 80 });
    expect(parseHostHeader('x:70000')).toBeNull();
    expect(parseHostHeader('x:0')).toBeNull();
  });
});
