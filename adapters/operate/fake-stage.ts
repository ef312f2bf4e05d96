/**
 * An in-process stand-in for a deployed stage, for driving the CLI in a real terminal (tests/operate/progress-tmux):
 * `SLUICE_OPERATE_FAKE='{"total":40,"perPoll":2,"failEvery":10}' sluice backfill --stage fake ...`. Each progress
 * poll moves `perPoll` items from pending through running to done; `total: 0` never starts the map, a huge total
 * never ends (to test detaching). Never used unless that variable is set.
 */
import { billedRunCost, type RunCost } from '../../domain/cost';
import type { ExecutionInput } from '../../schemas/types.generated';
import {
  OperateError,
  type DatasetStatus,
  type ExecutionProgress,
  type LogLine,
  type RunQuery,
  type RunRecord,
  type StageBackend,
} from './ports';

export interface FakeScript {
  total: number;
  perPoll: number;
  /** Every n-th item fails. */
  failEvery?: number;
}

export class FakeStage implements StageBackend {
  readonly label: string;
  private polls = 0;
  private started: { arn: string; input: ExecutionInput; at: string } | undefined;

  constructor(
    stage: string,
    private readonly script: FakeScript,
  ) {
    this.label = `stage ${stage} (in-process fake: SLUICE_OPERATE_FAKE)`;
  }

  static fromEnv(stage: string, text: string): FakeStage {
    return new FakeStage(stage, JSON.parse(text) as FakeScript);
  }

  async status(): Promise<DatasetStatus[]> {
    return [];
  }

  async runs(_query: RunQuery): Promise<RunRecord[]> {
    return this.started ? [await this.run(this.started.arn)] : [];
  }

  private counts() {
    const { total, perPoll, failEvery } = this.script;
    const done = Math.min(total, Math.max(0, (this.polls - 1) * perPoll));
    const running = Math.min(total - done, perPoll);
    const failed = failEvery ? Math.floor(done / failEvery) : 0;
    return { total, succeeded: done - failed, failed, running, pending: total - done - running, done };
  }

  async run(executionArn: string): Promise<RunRecord> {
    if (!this.started || executionArn !== this.started.arn) throw new OperateError(`no execution ${executionArn}`);
    const c = this.counts();
    const ended = c.done === c.total;
    return {
      executionArn,
      name: executionArn.split(':').pop() ?? executionArn,
      dataset: this.started.input.dataset,
      status: ended ? (c.failed > 0 ? 'FAILED' : 'SUCCEEDED') : 'RUNNING',
      startedAt: this.started.at,
      ...(ended
        ? {
            stoppedAt: new Date().toISOString(),
            partitions: { processed: c.succeeded, failed: c.failed },
            cost: this.costOf(c.total),
          }
        : {}),
    };
  }

  /**
   * The cost a deployed run of this script reports, priced by the one cost model: one 90-second job run per item at
   * 2 G.1X workers, one crawl of 0.05 DPU-hours (under the 10-minute minimum), 6 transitions per item plus 20.
   */
  private costOf(items: number): RunCost {
    return billedRunCost({
      jobRuns: Array.from({ length: items }, () => ({ ExecutionTime: 90, NumberOfWorkers: 2, WorkerType: 'G.1X' })),
      crawls: [{ DPUHour: 0.05 }],
      scannedBytes: [0],
      transitions: 20 + 6 * items,
    });
  }

  async start(input: ExecutionInput, kind: 'backfill' | 'rerun'): Promise<string> {
    const arn = `arn:aws:states:eu-west-1:000000000000:execution:sluice-fake:${input.dataset}-${kind}-fake`;
    this.started = { arn, input, at: new Date().toISOString() };
    return arn;
  }

  async progress(executionArn: string): Promise<ExecutionProgress> {
    this.polls += 1;
    const run = await this.run(executionArn);
    if (this.script.total === 0) return { status: 'RUNNING', map: null };
    const { done: _done, ...map } = this.counts();
    return { status: run.status, map };
  }

  async logs(): Promise<LogLine[]> {
    return [];
  }
}
