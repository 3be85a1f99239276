// Prints one plain line, `N passed, N failed`, totalling the vitest JSON reports it is given.
// A missing report (a suite that crashed before writing one) counts as a failure, and so does every
// test of a file that failed without running it (its beforeAll threw: vitest reports those tests
// as skipped, which would hide the failure in the totals).
import { readFileSync } from 'node:fs';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { status: string; assertionResults: { status: string }[] }[];
}

/** Tests reported as skipped in files that failed: they did not run because their file failed. */
function notRunInFailedFiles(report: VitestReport): number {
  return (report.testResults ?? [])
    .filter((file) => file.status === 'failed')
    .reduce((n, file) => n + file.assertionResults.filter((t) => t.status === 'skipped' || t.status === 'pending').length, 0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8')) as VitestReport;
    const notRun = notRunInFailedFiles(report);
    passed += report.numPassedTests;
    failed += report.numFailedTests + notRun;
    skipped += report.numPendingTests + report.numTodoTests - notRun;
  } catch {
    console.error(`no test report at ${file}: counting that suite as failed`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
