import type { CheckCrawlerInput, CrawlState, StartCrawlerInput } from '../../schemas/types.generated';
import { datasetNamed, nextPollSeconds, secondsBetween } from '../config';
import { CrawlerFailedError, type CrawlerStatus, type Log } from '../common';
import type { Deps } from '../deps';

/** A crawl that has not shown up this long after we started it is treated as lost, not awaited forever. */
export const CRAWL_START_GRACE_SECONDS = 600;

const startedAfter = (iso: string | undefined, requestedAt: string): iso is string =>
  iso !== undefined && Date.parse(iso) >= Date.parse(requestedAt);

/**
 * Starts the dataset's crawler, or attaches to a crawl that began at or after `requestedAt` (our own earlier
 * attempt, or anyone's: it began after our files landed, so it sees them). A crawl that began before our request
 * may have missed the new files: report `started: false` so the state machine waits for it and tries again.
 */
export async function startCrawler(input: StartCrawlerInput, deps: Deps, log: Log): Promise<CrawlState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const crawlerName = dataset.crawler.name;
  const base = { crawlerName, requestedAt: input.requestedAt, done: false };
  const attachOrWait = (status: CrawlerStatus): CrawlState | null => {
    if (status.state !== 'READY') {
      if (startedAfter(status.currentCrawlStartedAt, input.requestedAt)) {
        log.info('attached to a crawl that began after our request', { crawlerName });
        return {
          ...base,
          started: true,
          attached: true,
          startedAt: status.currentCrawlStartedAt,
          waitSeconds: dataset.polling.minSeconds,
        };
      }
      log.info('crawler busy with an earlier crawl; waiting to start ours', { crawlerName });
      return { ...base, started: false, waitSeconds: dataset.polling.minSeconds };
    }
    if (startedAfter(status.lastCrawl?.startedAt, input.requestedAt)) {
      log.info('a crawl began after our request and already finished', { crawlerName });
      return { ...base, started: true, attached: true, startedAt: status.lastCrawl?.startedAt, waitSeconds: 0 };
    }
    return null;
  };
  const before = attachOrWait(await deps.crawlers.getCrawlerStatus(crawlerName));
  if (before) return before;
  const now = deps.clock.now().toISOString();
  if ((await deps.crawlers.startCrawler(crawlerName)) === 'already-running') {
    // Someone started it between our look and our call; decide again from what is running now.
    const raced = attachOrWait(await deps.crawlers.getCrawlerStatus(crawlerName));
    if (raced) return raced;
    return { ...base, started: false, waitSeconds: dataset.polling.minSeconds };
  }
  log.info('crawler started', { crawlerName });
  return { ...base, started: true, attached: false, startedAt: now, waitSeconds: dataset.polling.minSeconds };
}

/**
 * Polls the crawl; a FAILED or CANCELLED crawl fails the run with the crawler's own message. A crawl does not end
 * FAILED because of one file it cannot read (issue 25): Glue classifies a file that no classifier recognizes as
 * UNKNOWN and goes on (https://docs.aws.amazon.com/glue/latest/dg/add-classifier.html), and the local crawler
 * (adapters/local/crawler.ts) notes such a file against its partition. Either way the file's partition fails alone,
 * in its job run, and the other partitions are processed. A FAILED crawl is the service failing, and fails the run.
 */
export async function checkCrawler(input: CheckCrawlerInput, deps: Deps, log: Log): Promise<CrawlState> {
  const dataset = datasetNamed(deps.config, input.dataset);
  const crawl = input.crawl;
  const startedAt = crawl.startedAt ?? crawl.requestedAt;
  const status = await deps.crawlers.getCrawlerStatus(crawl.crawlerName);
  const elapsed = secondsBetween(startedAt, deps.clock.now());
  const last = status.lastCrawl;
  if (status.state === 'READY' && last && Date.parse(last.startedAt) >= Date.parse(crawl.requestedAt)) {
    if (last.status !== 'SUCCEEDED')
      throw new CrawlerFailedError(
        `crawler ${crawl.crawlerName} ended ${last.status}: ${last.errorMessage ?? 'no error message from Glue'}`,
      );
    log.info('crawl succeeded', { crawlerName: crawl.crawlerName, elapsedSeconds: Math.round(elapsed) });
    return { ...crawl, done: true, waitSeconds: 0 };
  }
  if (status.state === 'READY' && elapsed > CRAWL_START_GRACE_SECONDS)
    throw new CrawlerFailedError(
      `crawler ${crawl.crawlerName} shows no crawl started after ${crawl.requestedAt} (${Math.round(elapsed)} s later)`,
    );
  const waitSeconds = nextPollSeconds(elapsed, dataset.polling);
  log.debug('crawl still running', { state: status.state, waitSeconds });
  return { ...crawl, done: false, waitSeconds };
}
