/**
 * A range per key, expanded into the partitions it names. How each key is enumerated:
 *
 * - Calendar keys are stepped through the calendar, as one unit: a key of type `date` (`2024-01-05` or `20240105`),
 *   or the keys named `year`, `month`, `day` (month needs year, day needs month), plus a key named `hour` when the
 *   calendar reaches the day. `{year:2024,month:01,day:30}` to `{year:2024,month:02,day:02}` is 4 days, not a
 *   product of the three ranges. A from or to that is not a real date (2024-02-30) is refused.
 * - Other keys of type `int` are stepped by one, keeping the zero padding of `from` (`007` .. `012`).
 * - Any other key (strings) can only be fixed: `from` must equal `to`, else the error names the key.
 *
 * The result is the product of these dimensions, in the config's key order. Every value, from, to and each value
 * produced, is checked against its key's pattern, so nothing outside the layout reaches S3 paths or DDL.
 */
import type { PartitionKeySpec, PartitionValues } from '../../schemas/types.generated';
import { type ResolvedDataset, assertPartition } from '../config';
import { InvalidInputError, InvalidPartitionError } from '../common';

export interface PartitionRange {
  from: PartitionValues;
  to: PartitionValues;
}

/** Above this, a range is refused before anything is enumerated (a Distributed Map reads millions, a Lambda less). */
export const MAX_RANGE_PARTITIONS = 1_000_000;

const CALENDAR_PART_NAMES = ['year', 'month', 'day', 'hour'] as const;
type CalendarUnit = 'year' | 'month' | 'day' | 'hour';

/** One dimension of the product: how many values it has and how to write value i into a partition. */
interface Dimension {
  keys: string[];
  count: number;
  fill(index: number, into: PartitionValues): void;
}

interface CalendarGroup {
  /** A `date`-typed key, or the year/month/day keys; plus hour. */
  dateKey?: PartitionKeySpec;
  parts: Partial<Record<CalendarUnit, PartitionKeySpec>>;
  unit: CalendarUnit;
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

function calendarGroupOf(dataset: ResolvedDataset): CalendarGroup | null {
  const byName = new Map(dataset.partitioning.keys.map((k) => [k.name, k]));
  const dateKey = dataset.partitioning.keys.find((k) => k.type === 'date');
  const parts: CalendarGroup['parts'] = {};
  let unit: CalendarUnit | undefined;
  if (dateKey) {
    unit = 'day';
  } else if (byName.has('year')) {
    for (const name of CALENDAR_PART_NAMES.slice(0, 3)) {
      const spec = byName.get(name);
      if (!spec) break;
      parts[name] = spec;
      unit = name;
    }
  }
  if (!unit) return null;
  const hour = byName.get('hour');
  if (unit === 'day' && hour) {
    parts.hour = hour;
    unit = 'hour';
  }
  return dateKey ? { dateKey, parts, unit } : { parts, unit };
}

function parseDigits(value: string, key: string, side: 'from' | 'to'): number {
  if (!/^[0-9]+$/.test(value))
    throw new InvalidPartitionError(`range.${side}.${key} = ${JSON.stringify(value)} is not a whole number`);
  return Number(value);
}

/** Zero padding as `from` writes it: "01" pads to 2, "1" does not pad. */
function widthOf(sample: string): number {
  return sample.length > 1 && sample.startsWith('0') ? sample.length : 0;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * Calendar parts wrap (day 31 -> 01), so their padding cannot come from `from` alone: a leading zero on either end
 * means padded, a single digit means not, and two digits without a zero (10 .. 20) ask the key's pattern about "01".
 */
function calendarWidthOf(spec: PartitionKeySpec, range: PartitionRange): number {
  const ends = [range.from[spec.name] ?? '', range.to[spec.name] ?? ''];
  const natural = spec.name === 'year' ? 4 : 2;
  if (ends.some((v) => v.length > 1 && v.startsWith('0'))) return natural;
  if (ends.some((v) => v.length < natural)) return 0;
  return new RegExp(spec.pattern).test(pad(1, natural)) ? natural : 0;
}

type DateStyle = 'iso' | 'compact';

/** Epoch ms of the calendar position a partition's calendar keys name; refuses impossible dates. */
function calendarInstant(
  group: CalendarGroup,
  values: PartitionValues,
  side: 'from' | 'to',
): { ms: number; style?: DateStyle } {
  let year: number;
  let month = 1;
  let day = 1;
  let style: DateStyle | undefined;
  if (group.dateKey) {
    const raw = values[group.dateKey.name] ?? '';
    const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(raw) ?? /^([0-9]{4})([0-9]{2})([0-9]{2})$/.exec(raw);
    if (!match)
      throw new InvalidPartitionError(
        `range.${side}.${group.dateKey.name} = ${JSON.stringify(raw)} is not a date (YYYY-MM-DD or YYYYMMDD)`,
      );
    style = raw.includes('-') ? 'iso' : 'compact';
    [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    year = parseDigits(values.year ?? '', 'year', side);
    if (group.parts.month) month = parseDigits(values.month ?? '', 'month', side);
    if (group.parts.day) day = parseDigits(values.day ?? '', 'day', side);
  }
  const hour = group.parts.hour ? parseDigits(values[group.parts.hour.name] ?? '', group.parts.hour.name, side) : 0;
  const where = group.dateKey ? group.dateKey.name : 'year/month/day';
  if (month < 1 || month > 12)
    throw new InvalidPartitionError(`range.${side} (${where}) names month ${month}, which is not a calendar month`);
  const lastDay = daysInMonth(year, month);
  if (day < 1 || day > lastDay)
    throw new InvalidPartitionError(
      `range.${side} (${where}) is not a calendar date: day ${day} of ${MONTH_NAMES[month - 1]} ${year}, which has ${lastDay} days`,
    );
  if (hour > 23) throw new InvalidPartitionError(`range.${side}.hour = ${hour} is not an hour of the day (00-23)`);
  return style ? { ms: Date.UTC(year, month - 1, day, hour), style } : { ms: Date.UTC(year, month - 1, day, hour) };
}

function monthsOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function calendarDimension(group: CalendarGroup, range: PartitionRange): Dimension {
  const from = calendarInstant(group, range.from, 'from');
  const to = calendarInstant(group, range.to, 'to');
  const keys = group.dateKey
    ? [group.dateKey.name, ...(group.parts.hour ? [group.parts.hour.name] : [])]
    : Object.values(group.parts).map((k) => k.name);
  if (to.ms < from.ms)
    throw new InvalidPartitionError(`range.from is after range.to for the calendar keys (${keys.join(', ')})`);
  const widths = Object.fromEntries(
    Object.entries(group.parts).map(([unit, spec]) => [unit, calendarWidthOf(spec, range)]),
  ) as Partial<Record<CalendarUnit, number>>;
  const step = (index: number): Date => {
    const start = new Date(from.ms);
    switch (group.unit) {
      case 'hour':
        return new Date(from.ms + index * 3_600_000);
      case 'day':
        return new Date(from.ms + index * 86_400_000);
      case 'month':
        return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + index, 1));
      case 'year':
        return new Date(Date.UTC(start.getUTCFullYear() + index, 0, 1));
    }
  };
  const count =
    group.unit === 'hour'
      ? (to.ms - from.ms) / 3_600_000 + 1
      : group.unit === 'day'
        ? Math.round((to.ms - from.ms) / 86_400_000) + 1
        : group.unit === 'month'
          ? monthsOf(to.ms) - monthsOf(from.ms) + 1
          : new Date(to.ms).getUTCFullYear() - new Date(from.ms).getUTCFullYear() + 1;
  return {
    keys,
    count,
    fill(index, into) {
      const at = step(index);
      const [y, m, d, h] = [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours()];
      if (group.dateKey) {
        into[group.dateKey.name] =
          from.style === 'compact' ? `${pad(y, 4)}${pad(m, 2)}${pad(d, 2)}` : `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
      } else {
        if (group.parts.year) into[group.parts.year.name] = pad(y, widths.year ?? 0);
        if (group.parts.month) into[group.parts.month.name] = pad(m, widths.month ?? 0);
        if (group.parts.day) into[group.parts.day.name] = pad(d, widths.day ?? 0);
      }
      if (group.parts.hour) into[group.parts.hour.name] = pad(h, widths.hour ?? 0);
    },
  };
}

function integerDimension(key: PartitionKeySpec, range: PartitionRange): Dimension {
  const fromRaw = range.from[key.name] ?? '';
  const from = parseDigits(fromRaw, key.name, 'from');
  const to = parseDigits(range.to[key.name] ?? '', key.name, 'to');
  if (to < from)
    throw new InvalidPartitionError(`range.from.${key.name} (${from}) is above range.to.${key.name} (${to})`);
  const width = widthOf(fromRaw);
  return {
    keys: [key.name],
    count: to - from + 1,
    fill(index, into) {
      into[key.name] = pad(from + index, width);
    },
  };
}

function fixedDimension(key: PartitionKeySpec, range: PartitionRange): Dimension {
  const from = range.from[key.name] ?? '';
  const to = range.to[key.name] ?? '';
  if (from !== to)
    throw new InvalidPartitionError(
      `range over key '${key.name}' (type ${key.type}): its values cannot be enumerated, so range.from.${key.name} ` +
        `(${JSON.stringify(from)}) must equal range.to.${key.name} (${JSON.stringify(to)}); list such partitions ` +
        `explicitly or in a manifest`,
    );
  return {
    keys: [key.name],
    count: 1,
    fill(_index, into) {
      into[key.name] = from;
    },
  };
}

function checkEnds(dataset: ResolvedDataset, range: PartitionRange): void {
  for (const side of ['from', 'to'] as const) {
    try {
      assertPartition(dataset, range[side]);
    } catch (error) {
      throw new InvalidPartitionError(`range.${side}: ${(error as Error).message}`);
    }
  }
}

function dimensionsOf(dataset: ResolvedDataset, range: PartitionRange): Dimension[] {
  const group = calendarGroupOf(dataset);
  const calendarKeys = new Set([
    ...(group?.dateKey ? [group.dateKey.name] : []),
    ...Object.values(group?.parts ?? {}).map((k) => k.name),
  ]);
  const dimensions: Dimension[] = [];
  for (const key of dataset.partitioning.keys) {
    if (calendarKeys.has(key.name)) {
      if (group && !dimensions.some((d) => d.keys.includes(key.name))) dimensions.push(calendarDimension(group, range));
    } else if (key.type === 'int') {
      dimensions.push(integerDimension(key, range));
    } else {
      dimensions.push(fixedDimension(key, range));
    }
  }
  return dimensions;
}

/** How many partitions the range names (validates it, enumerates nothing). */
export function countRange(dataset: ResolvedDataset, range: PartitionRange): number {
  checkEnds(dataset, range);
  return dimensionsOf(dataset, range).reduce((n, d) => n * d.count, 1);
}

/** Every partition the range names, in key order; each value checked against its key's pattern. */
export function expandRange(
  dataset: ResolvedDataset,
  range: PartitionRange,
  limit = MAX_RANGE_PARTITIONS,
): PartitionValues[] {
  if (!range || typeof range !== 'object' || !range.from || !range.to)
    throw new InvalidInputError('range must have both "from" and "to", each a partition');
  checkEnds(dataset, range);
  const dimensions = dimensionsOf(dataset, range);
  const total = dimensions.reduce((n, d) => n * d.count, 1);
  if (total > limit)
    throw new InvalidInputError(
      `range of dataset '${dataset.name}' names ${total} partitions, above the limit of ${limit}; split it into several runs`,
    );
  const patterns = new Map(dataset.partitioning.keys.map((k) => [k.name, new RegExp(k.pattern)]));
  const out: PartitionValues[] = new Array(total);
  const index = new Array<number>(dimensions.length).fill(0);
  for (let n = 0; n < total; n++) {
    const partition: PartitionValues = {};
    dimensions.forEach((d, i) => d.fill(index[i] ?? 0, partition));
    for (const key of dataset.partitioning.keys) {
      const value = partition[key.name] ?? '';
      if (!patterns.get(key.name)?.test(value))
        throw new InvalidPartitionError(
          `range value ${key.name}=${JSON.stringify(value)} of dataset '${dataset.name}' does not match ${key.pattern}`,
        );
    }
    // Keys in the config's order, as assertPartition would return them.
    out[n] = Object.fromEntries(dataset.partitioning.keys.map((k) => [k.name, partition[k.name] ?? '']));
    // Odometer: the last dimension moves fastest.
    for (let i = dimensions.length - 1; i >= 0; i--) {
      index[i] = (index[i] ?? 0) + 1;
      if ((index[i] ?? 0) < (dimensions[i]?.count ?? 0)) break;
      index[i] = 0;
    }
  }
  return out;
}
