// The import-direction check run by `make verify` (ARCHITECTURE.md draws the same arrows).
// Layers, bottom to top: api and runtime, internal, controller, manager, cmd. Imports point down
// (inward) only; controllers never import each other; programs never import each other; nothing
// imports a program except the upgrade shims at the old entry points (operator/main.ts,
// operator/worker/main.ts, operator/relay/main.ts). Tests may import anything they test.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'api-is-the-bottom',
      comment: 'operator/api holds the types and shared names; it imports nothing else of ours.',
      severity: 'error',
      from: { path: '^operator/api/' },
      to: { path: '^operator/(runtime|internal|controller|manager|cmd)/' },
    },
    {
      name: 'runtime-is-generic',
      comment: 'operator/runtime is the generic controller kit: it knows no Cloud Connect type.',
      severity: 'error',
      from: { path: '^operator/runtime/' },
      to: { path: '^operator/(api|internal|controller|manager|cmd)/' },
    },
    {
      name: 'internal-stays-below-controllers',
      comment: 'operator/internal is shared by controllers and programs, so it cannot depend on either.',
      severity: 'error',
      from: { path: '^operator/internal/' },
      to: { path: '^operator/(controller|manager|cmd)/' },
    },
    {
      name: 'controllers-are-independent',
      comment: 'A controller imports api, runtime and internal, never another controller; share through internal/.',
      severity: 'error',
      from: { path: '^operator/controller/([^/]+)/' },
      to: { path: '^operator/(controller|manager|cmd)/', pathNot: '^operator/controller/$1/' },
    },
    {
      name: 'manager-wires-controllers',
      comment: 'operator/manager wires the controllers; it imports no program.',
      severity: 'error',
      from: { path: '^operator/manager/' },
      to: { path: '^operator/cmd/' },
    },
    {
      name: 'programs-are-independent',
      comment: 'A program under cmd/ imports api, runtime and internal (the operator also manager), never another program.',
      severity: 'error',
      from: { path: '^operator/cmd/([^/]+)/' },
      to: { path: '^operator/cmd/', pathNot: '^operator/cmd/$1/' },
    },
    {
      name: 'only-the-operator-runs-controllers',
      comment: 'The worker, relay and plugin do not reach into controllers or the manager.',
      severity: 'error',
      from: { path: '^operator/cmd/(worker|relay|plugin)/' },
      to: { path: '^operator/(controller|manager)/' },
    },
    {
      name: 'httpx-is-generic',
      comment: 'internal/httpx is plain HTTP and OAuth, used by the EMR adapters and the Ocean client alike; it knows neither.',
      severity: 'error',
      from: { path: '^operator/internal/httpx/' },
      to: { path: '^operator/(api|internal/(?!httpx/))' },
    },
    {
      name: 'ocean-is-not-an-emr',
      comment: 'The Ocean client shares HTTP plumbing with the EMR adapters through internal/httpx, not through them.',
      severity: 'error',
      from: { path: '^operator/internal/ocean/' },
      to: { path: '^operator/internal/emr/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^operator/' },
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-the-image',
      comment: 'Production modules never import tests or test helpers (the image deletes them).',
      severity: 'error',
      from: { path: '^operator/', pathNot: '(\\.test\\.ts|/test-helpers\\.ts)$' },
      to: { path: '(\\.test\\.ts|/test-helpers\\.ts)$|^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
