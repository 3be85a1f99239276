// Runs last (last-file-sequencer.ts): stops the shared e2e cluster the way `make down` does
// (test/cluster/down.sh, real node first) and checks that the host is as it was before the cluster
// started: no kubelet, kube-proxy, containerd or shim process, no mount, network namespace, bridge,
// KUBE-* iptables chain or nftables table left, the sysctls the node changed restored, no kubepods
// cgroup and no host directory that was not there before.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../integration/kubectl.ts';

const run = promisify(execFile);

describe('stopping the cluster with its real node', () => {
  it.runIf(inject('hostStateBefore') !== '')('leaves the host as it was before the cluster started', async () => {
    const { stateDir } = inject('cluster');
    const during = (await run(`${repoRoot}/test/cluster/host-state.sh`)).stdout;
    // While it runs, the snapshot does see the node (so an empty diff below means something).
    expect(during).toMatch(/^process kubelet running$/m);
    expect(during).toMatch(/^link ccnode0$/m);
    await run(`${repoRoot}/test/cluster/down.sh`, [stateDir], { maxBuffer: 1 << 24 });
    const after = (await run(`${repoRoot}/test/cluster/host-state.sh`)).stdout;
    expect(after).toBe(inject('hostStateBefore'));
    expect(existsSync(stateDir)).toBe(false);
    const leftovers = (await run('ps', ['-eo', 'args'])).stdout.split('\n').filter((l) => l.includes(stateDir));
    expect(leftovers).toEqual([]);
  });
});
