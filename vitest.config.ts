import { defineConfig } from 'vitest/config';

// Test tiers of DESIGN.md section 6, as vitest projects: `npm test` runs them all.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['src/**/*.int.test.ts', 'test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'property',
          include: ['property-tests/**/*.prop.test.ts'],
          testTimeout: 180_000,
        },
      },
    ],
  },
});
