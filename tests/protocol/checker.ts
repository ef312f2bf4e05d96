/**
 * An exhaustive, deterministic scheduler for the run protocol (issue 21; docs/protocol.md, "The checker").
 *
 * The real TypeScript cores (domain/runs/protocol.ts, domain/intake/batch.ts, domain/steps/run.ts) and the real DynamoDB
 * and Step Functions adapters run against the in-memory DynamoDB (adapters/memory/dynamo.ts) and a Step Functions
 * stand-in. Every call an adapter makes (`doc.send`, `sfn.send`) is a *gate*: the calling actor parks there, and
 * the scheduler picks which parked call goes next and what happens to it:
 *   none      - applied, answered
 *   throttle  - not applied; the caller sees ThrottlingException
 *   timeout   - applied; the caller sees a TimeoutError (the SDK gave up)
 *   crash     - applied; the caller's process dies (Lambda timeout / crash); its environment reacts (SQS
 *               redelivers the batch, the state machine retries the step, EventBridge retries the handler)
 *   retry     - applied, the answer lost, and the SDK sends the same request again: the caller sees the second
 *               answer (a conditional write's ConditionalCheckFailed; a transaction's token makes it a no-op)
 * Actors run between gates without interruption (their code is synchronous there), so switching at every gate
 * enumerates every interleaving of their store and AWS calls.
 *
 * Search: depth-first over the choices, replaying the choice prefix on a fresh world to reach a node (stateless
 * model checking; the first child extends its parent's world instead), with state hashing (a node whose state was
 * seen before is not expanded again) and sleep sets (a choice that commutes with a sibling explored before is not
 * explored again after it: only calls that touch the same item, or faults sharing the budget, are reordered). The state is the
 * store's content, the scheduler's own state (faults used), the ghost state, and for each actor a digest of every
 * answer it has received: the actors are deterministic functions of their answers (Math.random is replaced by a
 * per-actor sequence, the clock is fixed), so equal digests mean equal futures. That is sound: every schedule
 * passes through explored states only, and each state's successors are explored once.
 *
 * Fault-budget subsumption: the state hash leaves the faults used out, and the memo keeps the largest budget left
 * each state was explored with. A smaller budget enables a subset of the choices (the same calls, fewer faults), and
 * the successors keep that relation, so every schedule from a state with budget r' <= r is one from it with r,
 * already explored: the visit is cut. The invariants do not read the budget. A visit with a larger budget explores
 * in full and replaces the entry; a stored sleep set shrinks only on a visit with the same budget (the choices
 * explored with a smaller one do not cover what a larger budget allows after them). checker.test.ts holds the
 * reduced search's reachable states equal to the unreduced search's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';

export type FaultKind = 'none' | 'throttle' | 'timeout' | 'crash' | 'retry';
export const FAULT_KINDS: FaultKind[] = ['none', 'throttle', 'timeout', 'crash', 'retry'];

export interface Choice {
  gate: string;
  fault: FaultKind;
}

/**
 * What a call touches, as item names (`table|pk|sk`; a trailing `*` names every item whose name starts with the
 * rest: a Query's range). Two calls of different actors whose footprints do not conflict (no item one writes that
 * the other reads or writes) commute: either order reaches the same state. Calls without a footprint (StartExecution,
 * which starts actors) commute with nothing.
 */
export interface Footprint {
  reads: string[];
  writes: string[];
}

const overlaps = (a: string, b: string) =>
  a === b || (a.endsWith('*') && b.startsWith(a.slice(0, -1))) || (b.endsWith('*') && a.startsWith(b.slice(0, -1)));
const anyOverlap = (as: string[], bs: string[]) => as.some((a) => bs.some((b) => overlaps(a, b)));

/** Footprints conflict when one writes what the other reads or writes. */
export function conflicts(a: Footprint | undefined, b: Footprint | undefined): boolean {
  if (!a || !b) return true;
  return anyOverlap(a.writes, [...b.reads, ...b.writes]) || anyOverlap(b.writes, a.reads);
}

/** One parked call. */
interface Gate {
  label: string;
  actor: string;
  /** What the call is (for traces): the command and the item it touches. */
  describe: string;
  write: boolean;
  /** Whether faults may be injected here (a scenario may limit them to some calls). */
  faultable: boolean;
  /** The items the call reads and writes (partial-order reduction); undefined: it may touch anything. */
  footprint: Footprint | undefined;
  apply: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Actor {
  name: string;
  digest: string;
  calls: number;
  random: number;
  state: 'running' | 'done' | 'crashed';
}

const als = new AsyncLocalStorage<string>();

/** The search's reductions, each of which can be turned off (the same states must come out: checker.test.ts). */
export interface SearchOptions {
  /** Sleep sets (partial-order reduction). Off: SLUICE_CHECK_NO_POR=1. */
  sleepSets: boolean;
  /** A state explored with a larger fault budget left covers it with a smaller one. Off: SLUICE_CHECK_NO_SUBSUMPTION=1. */
  subsumption: boolean;
  /** Collect the world part of every state visited (tests compare the reachable states with and without reductions). */
  collectStates?: boolean;
}
export const DEFAULT_OPTIONS: SearchOptions = {
  sleepSets: process.env.SLUICE_CHECK_NO_POR !== '1',
  subsumption: process.env.SLUICE_CHECK_NO_SUBSUMPTION !== '1',
};

const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });

/** A replayable world: the scenario builds its actors on it. */
export class Sched {
  readonly gates: Gate[] = [];
  readonly actors = new Map<string, Actor>();
  readonly trace: string[] = [];
  faultsUsed = 0;
  violation: string | undefined;
  private spawned = 0;

  constructor(readonly maxFaults: number) {}

  get currentActor(): string | undefined {
    return als.getStore();
  }

  /** A per-actor deterministic Math.random (execution names use it). */
  random(): number {
    const actor = this.actors.get(als.getStore() ?? '');
    if (!actor) return 0.5;
    actor.random++;
    // Distinct per actor (execution names must not collide) and per call, the same on every replay.
    const h = createHash('sha1').update(`${actor.name}#${actor.random}`).digest();
    return h.readUInt32BE(0) / 2 ** 32;
  }

  /**
   * Runs `fn` as actor `name`; `onEnd` sees how it ended (not called for a crash: `onCrash` is). Deterministic
   * names: the scenario gives them.
   */
  spawn(
    name: string,
    fn: () => Promise<unknown>,
    onEnd?: (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => void,
    onCrash?: () => void,
  ): void {
    if (this.actors.has(name)) throw new Error(`actor ${name} exists`);
    const actor: Actor = { name, digest: '', calls: 0, random: 0, state: 'running' };
    this.actors.set(name, actor);
    this.spawned++;
    (actor as Actor & { onCrash?: () => void }).onCrash = onCrash;
    void als.run(name, async () => {
      try {
        const value = await fn();
        if (actor.state !== 'running') return;
        actor.state = 'done';
        onEnd?.({ ok: true, value });
      } catch (error) {
        if (actor.state !== 'running') return;
        actor.state = 'done';
        onEnd?.({ ok: false, error });
      }
    });
  }

  /** Parks the calling actor at a gate until the scheduler picks it. */
  gate(
    describe: string,
    write: boolean,
    apply: () => unknown,
    faultable = true,
    footprint?: Footprint,
  ): Promise<unknown> {
    const name = als.getStore();
    const actor = name ? this.actors.get(name) : undefined;
    if (!actor) return Promise.resolve(apply()); // set-up code outside any actor: no gate
    if (actor.state !== 'running') return new Promise(() => {}); // a crashed actor's stragglers never return
    const label = `${actor.name}#${++actor.calls}`;
    return new Promise((resolve, reject) => {
      this.gates.push({ label, actor: actor.name, describe, write, faultable, footprint, apply, resolve, reject });
    });
  }

  /** Lets every actor run to its next gate (the code between gates is synchronous; two turns drain it). */
  async settle(): Promise<void> {
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  }

  /** The choices from here: every parked call, with every fault the budget allows. */
  enabled(): Choice[] {
    const out: Choice[] = [];
    for (const g of [...this.gates].sort((a, b) => (a.label < b.label ? -1 : 1))) {
      out.push({ gate: g.label, fault: 'none' });
      if (this.faultsUsed >= this.maxFaults || !g.faultable) continue;
      out.push({ gate: g.label, fault: 'throttle' });
      if (!g.write) continue;
      out.push(
        { gate: g.label, fault: 'timeout' },
        { gate: g.label, fault: 'crash' },
        { gate: g.label, fault: 'retry' },
      );
    }
    return out;
  }

  /**
   * Whether two choices enabled here commute (sleep sets): different actors, calls whose footprints do not
   * conflict, and not both faults (each uses the shared fault budget, so one can disable the other). What an actor
   * does after its call until its next one (a finished step spawning the next, a redelivery) is named after the
   * actor and touches no shared scheduler state, so it commutes too.
   */
  independent(a: Choice, b: Choice): boolean {
    const ga = this.gates.find((g) => g.label === a.gate);
    const gb = this.gates.find((g) => g.label === b.gate);
    if (!ga || !gb || ga.actor === gb.actor) return false;
    if (a.fault !== 'none' && b.fault !== 'none') return false;
    return !conflicts(ga.footprint, gb.footprint);
  }

  private record(actor: Actor, outcome: string): void {
    actor.digest = createHash('sha1').update(actor.digest).update(outcome).digest('base64');
  }

  /** Takes one choice: runs the picked call with its fault and answers its actor. */
  step(choice: Choice): void {
    const index = this.gates.findIndex((g) => g.label === choice.gate);
    if (index < 0) throw new Error(`replay diverged: no gate ${choice.gate}`);
    const [g] = this.gates.splice(index, 1) as [Gate];
    const actor = this.actors.get(g.actor)!;
    if (choice.fault !== 'none') this.faultsUsed++;
    this.trace.push(`${g.label} ${g.describe}${choice.fault === 'none' ? '' : ` [${choice.fault}]`}`);
    const run = (): { ok: true; value: unknown } | { ok: false; error: unknown } => {
      try {
        return { ok: true, value: als.run(g.actor, g.apply) };
      } catch (error) {
        return { ok: false, error };
      }
    };
    let answer: { ok: true; value: unknown } | { ok: false; error: unknown };
    switch (choice.fault) {
      case 'throttle':
        answer = { ok: false, error: awsError('ThrottlingException', 'Rate exceeded (injected)') };
        break;
      case 'timeout':
        run();
        answer = {
          ok: false,
          error: awsError('TimeoutError', 'socket timed out after the call was applied (injected)'),
        };
        break;
      case 'crash':
        run();
        actor.state = 'crashed';
        for (let i = this.gates.length - 1; i >= 0; i--)
          if (this.gates[i]!.actor === actor.name) this.gates.splice(i, 1);
        this.record(actor, 'crash');
        (actor as Actor & { onCrash?: () => void }).onCrash?.();
        return;
      case 'retry':
        run();
        answer = run();
        break;
      default:
        answer = run();
    }
    this.record(
      actor,
      answer.ok ? `ok:${stable(answer.value)}` : `err:${(answer.error as { name?: string }).name ?? 'Error'}`,
    );
    if (answer.ok) g.resolve(answer.value);
    else g.reject(answer.error);
  }

  /**
   * The scheduler's part of the state: live actors' digests and what they wait on. Not the faults used: the
   * search keys its memo by this state and keeps the fault budget left beside it (`explore`, subsumption).
   */
  fingerprint(): string {
    const live = [...this.actors.values()]
      .filter((a) => a.state === 'running')
      .map((a) => `${a.name}:${a.digest}`)
      .sort();
    return `${live.join(',')}|${this.gates
      .map((g) => g.label)
      .sort()
      .join(',')}`;
  }
}

function stable(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Set ? [...v].sort() : v)) ?? 'undefined';
  } catch {
    return String(value);
  }
}

/** A scenario: builds a world on a scheduler and says what must hold. */
export interface Scenario {
  name: string;
  /** Faults per schedule. */
  maxFaults: number;
  /** Builds the world and spawns the first actors; returns the world's checks. */
  build(sched: Sched): Promise<World>;
}

export interface World {
  /** The rest of the state (store content, ghost state, what AWS saw), as text. */
  fingerprint(): string;
  /** Invariants that hold at every step; a message when one is broken. */
  always(): string | undefined;
  /** Invariants that hold once nothing can happen any more. */
  atEnd(): string | undefined;
  /** Called when nothing is parked: may start the next phase (a later event, the clock passing). */
  quiet?(): boolean;
}

export interface Report {
  scenario: string;
  maxFaults: number;
  /** Schedules explored: DFS paths that reached an end state or a state explored before (each covers a class). */
  schedules: number;
  /** Distinct states reached. */
  states: number;
  /** Ends (quiescent states) reached. */
  ends: number;
  violations: number;
  /** The shortest failing schedule, as the calls it took. */
  counterexample?: { message: string; trace: string[] };
  /** Stopped at the state limit (then not exhaustive). */
  truncated: boolean;
  /** Choices taken (each one call with its fault): the search's work. */
  transitions: number;
  /** Visits cut because the state had been explored with a larger fault budget left (subsumption). */
  subsumed: number;
  /** With `collectStates`: the world part (store, ghost, executions, topic) of every state visited. */
  worldStates?: Set<string>;
}

/** Replays `prefix` on a fresh world; returns the scheduler and world at its end (settled). */
async function replay(scenario: Scenario, prefix: Choice[]): Promise<{ sched: Sched; world: World }> {
  const sched = new Sched(scenario.maxFaults);
  const random = Math.random;
  Math.random = () => sched.random();
  try {
    const world = await scenario.build(sched);
    await sched.settle();
    for (const choice of prefix) {
      await advanceQuiet(sched, world);
      sched.step(choice);
      await sched.settle();
    }
    await advanceQuiet(sched, world);
    return { sched, world };
  } finally {
    Math.random = random;
  }
}

/** Takes one more choice on a live world (the DFS's first child needs no replay). */
async function extend(live: { sched: Sched; world: World }, choice: Choice): Promise<void> {
  const random = Math.random;
  Math.random = () => live.sched.random();
  try {
    live.sched.step(choice);
    await live.sched.settle();
    await advanceQuiet(live.sched, live.world);
  } finally {
    Math.random = random;
  }
}

async function advanceQuiet(sched: Sched, world: World): Promise<void> {
  while (sched.gates.length === 0 && world.quiet?.()) await sched.settle();
}

const choiceKey = (c: Choice) => `${c.gate}/${c.fault}`;

interface Node {
  prefix: Choice[];
  /** Choices not to take from here (sleep set): a sibling explored before, independent of the last choice. */
  sleep: Choice[];
  /** The node whose live world this one can extend without replaying (its parent, if still live). */
  parent: number;
}

/**
 * Explores every schedule of the scenario within its fault bound: depth-first, with state hashing and sleep sets
 * (Godefroid's partial-order reduction: after exploring choice a from a state, a sibling b independent of a is
 * not explored again right after a, since b-then-a reaches what a-then-b did). Sleep sets prune transitions,
 * never states: every reachable state is visited and checked. With state hashing, a state met again with a
 * smaller sleep set has the choices it slept on then explored now (the stored sleep set shrinks to the
 * intersection), which keeps the combination sound.
 */
export async function explore(
  scenario: Scenario,
  maxStates = 2_000_000,
  options: SearchOptions = DEFAULT_OPTIONS,
): Promise<Report> {
  const SUBSUMPTION = options.subsumption;
  // state hash -> the fault budget left and the sleep set it has been explored with
  const seen = new Map<string, { budget: number; sleep: Set<string> }>();
  const report: Report = {
    scenario: scenario.name,
    maxFaults: scenario.maxFaults,
    schedules: 0,
    states: 0,
    ends: 0,
    violations: 0,
    truncated: false,
    transitions: 0,
    subsumed: 0,
  };
  let nodes = 0;
  let live: { id: number; sched: Sched; world: World } | undefined;
  const stack: Array<Node & { id: number }> = [{ prefix: [], sleep: [], parent: -1, id: nodes++ }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    let sched: Sched;
    let world: World;
    if (live && node.parent === live.id && node.prefix.length > 0) {
      await extend(live, node.prefix[node.prefix.length - 1]!);
      ({ sched, world } = live);
    } else ({ sched, world } = await replay(scenario, node.prefix));
    live = undefined;
    report.transitions++;
    const broken =
      world.always() ??
      sched.violation ??
      (node.prefix.length > MAX_DEPTH
        ? `no progress: more than ${MAX_DEPTH} calls without ending (livelock)`
        : undefined);
    if (broken) {
      report.violations++;
      if (!report.counterexample || report.counterexample.trace.length > sched.trace.length)
        report.counterexample = { message: broken, trace: sched.trace };
      report.schedules++;
      continue;
    }
    const worldPart = world.fingerprint();
    if (options.collectStates) (report.worldStates ??= new Set()).add(worldPart);
    const key = `${sched.fingerprint()}\n${worldPart}`;
    const hash = createHash('sha1').update(key).digest('base64');
    const sleeping = new Set(node.sleep.map(choiceKey));
    const budget = scenario.maxFaults - sched.faultsUsed;
    const stored = SUBSUMPTION ? seen.get(hash) : seen.get(`${hash}|${budget}`);
    let skip: Set<string>;
    if (stored && stored.budget >= budget) {
      // Explored before with at least this budget and sleep set `stored.sleep`: only what it slept on and this
      // visit does not is left (every choice enabled now was enabled then: a smaller budget enables fewer faults).
      const missing = [...stored.sleep].filter((k) => !sleeping.has(k));
      if (missing.length === 0) {
        report.schedules++;
        if (stored.budget > budget) report.subsumed++;
        continue;
      }
      // The stored entry shrinks only when this visit has the same budget: the choices explored now, with a
      // smaller budget, do not cover what the stored budget allows after them.
      if (stored.budget === budget) stored.sleep = new Set([...stored.sleep].filter((k) => sleeping.has(k)));
      skip = new Set([...sleeping]); // explore only `missing` below (and what is enabled of it)
      for (const k of sched.enabled().map(choiceKey)) if (!stored.sleep.has(k) && !missing.includes(k)) skip.add(k);
    } else {
      // New, or seen only with a smaller budget (then this visit's exploration covers that one's: replace it).
      seen.set(SUBSUMPTION ? hash : `${hash}|${budget}`, { budget, sleep: sleeping });
      if (!stored) report.states++;
      skip = sleeping;
    }
    if (process.env.SLUICE_CHECK_PROGRESS && report.states % 500 === 0 && !stored)
      console.error(`  ${scenario.name}: ${report.states} states, depth ${node.prefix.length}, stack ${stack.length}`);
    if (report.states >= maxStates) {
      report.truncated = true;
      break;
    }
    const choices = sched.enabled();
    if (choices.length === 0) {
      report.ends++;
      report.schedules++;
      const end = world.atEnd();
      if (end) {
        report.violations++;
        if (!report.counterexample || report.counterexample.trace.length > sched.trace.length)
          report.counterexample = { message: end, trace: sched.trace };
      }
      continue;
    }
    const toExplore = choices.filter((c) => !skip.has(choiceKey(c)));
    if (toExplore.length === 0) {
      report.schedules++; // every continuation is covered by a sibling's (sleep set)
      continue;
    }
    // Children in order; each sleeps on the earlier siblings (and this node's sleep set) that commute with it.
    const done: Choice[] = [...node.sleep];
    const children: Array<Node & { id: number }> = [];
    for (const choice of toExplore) {
      const sleep = options.sleepSets ? done.filter((d) => sched.independent(d, choice)) : [];
      children.push({ prefix: [...node.prefix, choice], sleep, parent: -1, id: nodes++ });
      done.push(choice);
    }
    // The first child continues on this live world; the others replay.
    children[0]!.parent = node.id;
    live = { id: node.id, sched, world };
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return report;
}

/** A schedule longer than this is a livelock (the scenarios end within a few dozen calls). */
const MAX_DEPTH = Number(process.env.SLUICE_CHECK_MAX_DEPTH ?? 400);

export const summaryLine = (r: { scenarios: number; schedules: number; violations: number }) =>
  `scenarios: ${r.scenarios}  schedules explored: ${r.schedules}  violations: ${r.violations}`;
