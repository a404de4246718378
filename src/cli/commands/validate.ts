// gantry validate / gantry schema: check gantry.yaml before anything runs; publish the schema.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/tools';
import { readConfig, type GlobalOptions } from '../cliContext';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check gantry.yaml; prints every problem with its field path and line')
    .action((_options: unknown, cmd: Command) => {
      const options = cmd.optsWithGlobals<GlobalOptions>();
      const config = readConfig(options);
      const apps = Object.entries(config.apps).map(([name, app]) => `${name} (${(app.environments ?? config.environments ?? []).map((e) => (e.taskQueue ? `${e.name} [task queue ${e.taskQueue}]` : e.name)).join(' → ')})`);
      console.log(`${options.config} is valid: ${apps.join('; ')}`);
    });
  program
    .command('schema')
    .description('print the JSON Schema of gantry.yaml (for editors)')
    .action(() => {
      process.stdout.write(readFileSync(join(PROJECT_ROOT, 'schema', 'gantry.schema.json'), 'utf8'));
    });
}
