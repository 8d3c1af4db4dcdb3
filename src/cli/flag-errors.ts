/**
 * Domain validation errors said in the user's words: the input field at fault becomes the flag the
 * user typed (`pollInterval` → `--poll`). The field is known structurally, never guessed from the
 * message: from the error's own `field` (set by the validators in src/domain/validation.ts), or by
 * checking the input one field at a time ({@link checkedByField}).
 */
import { ErrorType } from '../domain/errors';
import { CliError } from './output';

/** Input field → the flag or argument the user typed for it, e.g. `{ pollInterval: '--poll' }`. */
export type FieldFlags = Readonly<Record<string, string>>;

/** The field an invalid-input error names, when its validator said. */
export function fieldOf(err: unknown): string | undefined {
  const field = (err as { field?: unknown } | null)?.field;
  return typeof field === 'string' ? field : undefined;
}

function isInvalidInput(err: unknown): err is Error {
  return err instanceof Error && (err as { type?: unknown }).type === ErrorType.InvalidInput;
}

/**
 * `err` as a `CliError` naming the flag for `field` (default: the error's own field). The domain's
 * messages open with the field's name ("pollInterval must be ..."): that name is replaced by the
 * flag; a message that does not open with it gets the flag in front. Errors other than
 * `CcsInvalidInput` are returned unchanged.
 */
export function flagError(err: unknown, flags: FieldFlags, field = fieldOf(err)): unknown {
  if (!isInvalidInput(err)) return err;
  const flag = field === undefined ? undefined : flags[field];
  if (field === undefined || flag === undefined) return new CliError(err.message);
  const opensWithField = err.message.startsWith(field) && !/^\w/.test(err.message.slice(field.length));
  return new CliError(opensWithField ? `${flag}${err.message.slice(field.length)}` : `${flag}: ${err.message}`);
}

/**
 * Validates `input` as it grows by one given field at a time, in `order`: the first refusal is
 * about the field just added, whatever its message says, so it is reported under that field's flag.
 * Then validates the whole input and returns what `validate` returns for it. Throws `CliError`.
 */
export function checkedByField<I extends object, R>(
  input: I,
  order: readonly (keyof I & string)[],
  validate: (input: I) => R,
  flags: FieldFlags,
): R {
  const partial: Partial<I> = {};
  for (const field of order) {
    if (input[field] === undefined) continue;
    partial[field] = input[field];
    try {
      validate(partial as I);
    } catch (err) {
      throw flagError(err, flags, fieldOf(err) ?? field);
    }
  }
  try {
    return validate(input);
  } catch (err) {
    throw flagError(err, flags);
  }
}
