/** Reads a pipeline definition from a YAML or JSON file and validates it, reporting every problem. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { pipelineProblems, type PipelineDefinition } from '../domain/pipeline';
import { CliError } from './output';

export function loadPipelineFile(path: string): PipelineDefinition {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read pipeline file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    // JSON is YAML, but JSON.parse gives the better message for a .json file.
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (err) {
    throw new CliError(
      `pipeline file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const problems = pipelineProblems(data);
  if (problems.length > 0) {
    throw new CliError(
      `pipeline file ${path} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
    );
  }
  return data as PipelineDefinition;
}
