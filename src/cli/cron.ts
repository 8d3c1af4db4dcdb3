/**
 * Checks a cron expression before it is sent to Temporal, so a typo is one clear line here rather
 * than a server error. Accepts the five-field form Temporal schedules take, and the @-macros.
 */
import { invalidInput } from '../domain/validation';

const FIELDS: [name: string, min: number, max: number, names?: string[]][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12, ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']],
  ['day of week', 0, 7, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']],
];
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

function value(text: string, min: number, names: string[] | undefined): number {
  const index = names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) return index + (min === 1 ? 1 : 0);
  return /^\d+$/.test(text) ? Number(text) : NaN;
}

/** Returns the expression trimmed, or throws `CcsInvalidInput` naming the bad field. */
export function validateCron(expression: string): string {
  const expr = expression.trim().replace(/\s+/g, ' ');
  const example = 'e.g. "0 2 * * *" (02:00 every day) or "30 1 * * MON-FRI"';
  if (MACROS.includes(expr.toLowerCase()) || /^@every \d+[smhd]$/i.test(expr)) return expr;
  const parts = expr.split(' ');
  if (parts.length !== 5)
    throw invalidInput(
      `--cron must have 5 fields (minute hour day-of-month month day-of-week), ${example}; got ${JSON.stringify(expression)}`,
    );
  parts.forEach((part, i) => {
    const [name, min, max, names] = FIELDS[i]!;
    for (const item of part.split(',')) {
      const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
      const bad = (): never => {
        throw invalidInput(
          `--cron ${name} field ${JSON.stringify(part)} is not valid (allowed ${min}-${max}${names ? ' or names' : ''}, *, lists, ranges, steps), ${example}`,
        );
      };
      if (!m) bad();
      const [range = '', step] = [m![1], m![2]];
      if (step !== undefined && Number(step) < 1) bad();
      if (range === '*') continue;
      const [from = '', to] = range.split('-');
      const a = value(from, min, names);
      const b = to === undefined ? a : value(to, min, names);
      if (!(a >= min && a <= max && b >= min && b <= max && a <= b)) bad();
    }
  });
  return expr;
}
