// The ServiceMonitor, PodMonitor and PrometheusRule CRDs of prometheus-operator, so that the chart's optional
// monitoring objects can be applied (server-side dry run) to the local apiserver. They come from the
// published Go module (example/prometheus-operator-crd/), fetched once through the Go module proxy
// and kept in the Go module cache like the cluster binaries' sources.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PROMETHEUS_OPERATOR_MODULE = 'github.com/prometheus-operator/prometheus-operator@v0.85.0';

/** Paths of the monitoring.coreos.com CRD files the chart uses (ServiceMonitor, PodMonitor, PrometheusRule). */
export async function prometheusOperatorCrdFiles(): Promise<string[]> {
  const { stdout } = await run('go', ['mod', 'download', '-json', PROMETHEUS_OPERATOR_MODULE], {
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    maxBuffer: 1 << 20,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(
      `go mod download ${PROMETHEUS_OPERATOR_MODULE} failed (is the Go module proxy reachable?): ${error.stderr ?? error.stdout ?? String(error)}`,
    );
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${PROMETHEUS_OPERATOR_MODULE}: ${info.Error ?? 'no module directory'}`);
  const dir = join(info.Dir, 'example/prometheus-operator-crd');
  return [
    'monitoring.coreos.com_servicemonitors.yaml',
    'monitoring.coreos.com_podmonitors.yaml',
    'monitoring.coreos.com_prometheusrules.yaml',
  ].map((f) => join(dir, f));
}
