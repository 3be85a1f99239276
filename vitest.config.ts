import { defineConfig } from 'vitest/config';
import LastFileSequencer from './test/e2e/last-file-sequencer.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['operator/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/simulators/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // One control plane is shared; files run one at a time so they do not fight over it.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          // A real node (kubelet + containerd) runs the project's image: one node per machine, so
          // one cluster and one file at a time.
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          // node-teardown.test.ts stops the cluster: it runs last.
          sequence: { sequencer: LastFileSequencer },
          testTimeout: 300_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
