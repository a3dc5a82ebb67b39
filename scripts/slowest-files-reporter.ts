import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the ten test files that took longest (import plus tests and hooks) after a run, so a file
 * that grows slow is seen before the suite outgrows its five-minute budget (README, "To run the tests").
 * Then the failed tests again, one line each: a long run's log is often read from its end only.
 */
const SHOWN = 10;

export default class SlowestFilesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const timed = testModules
      .map((module) => {
        const { collectDuration, duration } = module.diagnostic();
        return { file: module.relativeModuleId, ms: collectDuration + duration };
      })
      .sort((a, b) => b.ms - a.ms)
      .slice(0, SHOWN);
    if (timed.length === 0) return;
    const lines = timed.map(({ file, ms }) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}`);
    process.stdout.write(`\nSlowest test files:\n${lines.join('\n')}\n`);
    const failed = testModules.flatMap((module) =>
      [...module.children.allTests('failed')].map((test) => {
        const reason = test.result().errors?.[0]?.message?.split('\n')[0] ?? '';
        return `  ${module.relativeModuleId} > ${test.fullName}: ${reason}`;
      }),
    );
    if (failed.length > 0) process.stdout.write(`\nFailed tests:\n${failed.join('\n')}\n`);
  }
}
