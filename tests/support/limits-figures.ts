/**
 * The figures issue 12 asks the limits test to print, measured from the interpreter's event logs: the largest
 * state payload (every state's input and output, parent and children), the parent's history length, and the
 * transitions per partition (StateEntered events, which is what Step Functions bills).
 */
export interface LoggedEvent {
  type: string;
  state?: { input?: unknown; output?: unknown };
}

export interface Figures {
  partitions: number;
  outcome: 'all-succeeded' | 'all-failed';
  largestStatePayload: number;
  snsMessage: number;
  parentHistoryEvents: number;
  transitionsPerPartition: number;
}

const bytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

export function largestPayload(events: Iterable<LoggedEvent>): number {
  let largest = 0;
  for (const e of events) largest = Math.max(largest, bytes(e.state?.input), bytes(e.state?.output));
  return largest;
}

export const transitions = (events: Iterable<LoggedEvent>): number => {
  let n = 0;
  for (const e of events) if (e.type === 'StateEntered') n++;
  return n;
};

export function figureLine(f: Figures): string {
  return (
    `partitions: ${f.partitions}  outcome: ${f.outcome}  largest state payload: ${f.largestStatePayload} bytes  ` +
    `sns message: ${f.snsMessage} bytes  parent history events: ${f.parentHistoryEvents}  ` +
    `transitions per partition: ${f.transitionsPerPartition.toFixed(1)}`
  );
}
