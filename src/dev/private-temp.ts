/**
 * Where development tooling writes its logs: a new directory of its own under the machine's temp
 * folder each time (mkdtemp: a random name, mode 0700), never a fixed name in /tmp that another
 * user could have created first, linked elsewhere or could read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A file path in a private directory, and how to remove that directory. */
export interface PrivateFile {
  path: string;
  /** Deletes the directory and the file: after a success, when nobody needs to read the log. */
  remove: () => void;
}

/** A file named `name` in a new private directory `<tmp>/ccs-<name>-XXXXXX`; the file is not created. */
export function privateTempFile(name: string): PrivateFile {
  const dir = mkdtempSync(join(tmpdir(), `ccs-${name.replace(/[^\w.-]+/g, '-')}-`));
  return { path: join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
