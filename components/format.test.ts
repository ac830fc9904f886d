import { describe, expect, it } from 'vitest';
import { formatBytes } from './format';

describe('formatBytes', () => {
  it('shows bytes below a KiB, then binary units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(129_241_752)).toBe('123 MiB');
    expect(formatBytes(1_500_000_000)).toBe('1.40 GiB');
    expect(formatBytes(15 * 2 ** 30)).toBe('15.0 GiB');
    expect(formatBytes(2 ** 60)).toBe('1024 PiB');
  });
});
