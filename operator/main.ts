// Upgrade shim: the chart and existing manifests run `node operator/main.ts`, so this path stays
// and hands off to the program in cmd/operator/.
import './cmd/operator/main.ts';
