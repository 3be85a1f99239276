// Runs the e2e files in the default order, except node-teardown.test.ts, which stops the shared
// cluster (real node included) and so must come last.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LAST_FILE = 'node-teardown.test.ts';

export default class LastFileSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isLast = (f: TestSpecification) => f.moduleId.endsWith(`/${LAST_FILE}`);
    return [...sorted.filter((f) => !isLast(f)), ...sorted.filter(isLast)];
  }
}
