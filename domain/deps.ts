/**
 * Everything a step's handler can hand its core: the capabilities' ports composed (each declared next to its
 * capability). The adapters build one (adapters/aws/deps.ts, runtime/runtime.ts); a core takes the part it
 * needs (`Pick<Deps, ...>` or its capability's own deps type).
 */
import type { ArtifactStore, Clock, CrawlerPort, JobPort, NotifierPort, ObjectStorePort, QueryPort } from './common';
import type { ResolvedConfig } from './config';
import type { RunCostPort } from './cost';
import type { DriftPort } from './drift';
import type { MetricsPort } from './metrics';
import type { ArrivalLedger, ExecutionStarter, RunLeaseStore } from './runs';

export interface Deps {
  config: ResolvedConfig;
  clock: Clock;
  crawlers: CrawlerPort;
  jobs: JobPort;
  queries: QueryPort;
  notifier: NotifierPort;
  arrivals: ArrivalLedger;
  leases: RunLeaseStore;
  executions: ExecutionStarter;
  /** HeadObject on the raw bucket, for keys whose event encoding is ambiguous. Absent: the literal form wins. */
  objects?: ObjectStorePort;
  /**
   * Run artifacts by reference (issue 12): partition lists for the Distributed Map's ItemReader, its ResultWriter
   * output, the succeeded/failed lists. The artifacts bucket on AWS, files under the lake locally. Steps that need
   * it fail with a ConfigError when it is absent.
   */
  artifacts?: ArtifactStore;
  /**
   * Metrics a core emits itself, at the one moment a fact becomes true whoever called it (issue 15: the rows of a
   * job run, when the step that sees it SUCCEEDED reads its summary). Lambdas: EMF lines; local: the run history.
   * Recording never throws. Absent: not recorded.
   */
  metrics?: MetricsPort;
  /**
   * Issue 24: the raw files' schemas by ranged reads, the crawled raw table, and the dataset's fingerprints.
   * Absent: the drift step knows no fingerprints and leaves the crawler to crawler.when alone.
   */
  drift?: DriftPort;
  /** For console links in notifications. */
  consoleUrl(executionArn: string): string;
  /** The run's cost so far, for the failure notification (issue 23 item 6). Absent: the notification has no cost. */
  runCosts?: RunCostPort;
}
