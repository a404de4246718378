// gantry validate / gantry schema: check gantry.yaml before anything runs; publish the schema.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { relativeWorkerPaths } from '../../config/relativePaths';
import { WORKDIR_ENV } from '../../config/workerPaths';
import { PROJECT_ROOT } from '../../local/tools';
import { readConfig, type GlobalOptions } from '../cliContext';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check gantry.yaml; prints every problem with its field path and line')
    .action(async (_options: unknown, cmd: Command) => {
      const options = cmd.optsWithGlobals<GlobalOptions>();
      const config = await readConfig(options);
      const apps = Object.entries(config.apps).map(
        ([name, app]) =>
          `${name} (${(app.environments ?? config.environments ?? []).map((e) => (e.taskQueue ? `${e.name} [task queue ${e.taskQueue}]` : e.name)).join(' → ')})`,
      );
      console.log(`${options.config} is valid: ${apps.join('; ')}`);
      // Not an error: a worker elsewhere resolves these against its own folder, not this file's.
      const relative = relativeWorkerPaths(config);
      if (relative.length > 0) {
        console.log(
          `note: these paths are relative; each worker resolves them where the activity runs ($${WORKDIR_ENV}, else the folder \`gantry worker\` started in), not against ${config.baseDir}:`,
        );
        for (const r of relative) console.log(`  ${r.at}: ${r.path}`);
      }
    });
  program
    .command('schema')
    .description('print the JSON Schema of gantry.yaml (for editors)')
    .action(() => {
      process.stdout.write(readFileSync(join(PROJECT_ROOT, 'schema', 'gantry.schema.json'), 'utf8'));
    });
}
