import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module without type declarations
import { findViolations } from './check-imports.mjs';

describe('import direction', () => {
  it('the pure core imports no runtime, UI or adapter module', () => {
    expect(findViolations()).toEqual([]);
  });
});
