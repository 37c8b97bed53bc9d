// GET /MAAS/maas-run-scripts (anonymous, as in MAAS 3.1): the shell script an operator runs on a
// host that already runs a workload, to register it as a deployed machine and report its
// hardware. It holds no secrets; the API key is given to it on the command line.
import fs from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';

export const RUN_SCRIPTS_PATH = '/MAAS/maas-run-scripts';

export function runScriptsRoute(): Koa.Middleware {
  // Read once: the script ships next to this file (no build step; tsx runs the sources).
  const script = fs.readFileSync(path.join(__dirname, 'maas-run-scripts.sh'));
  return async function runScripts(ctx, next) {
    if (ctx.path !== RUN_SCRIPTS_PATH && ctx.path !== `${RUN_SCRIPTS_PATH}/`) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      ctx.type = 'text/plain';
      ctx.body = `Method ${ctx.method} not allowed on ${RUN_SCRIPTS_PATH}.`;
      return;
    }
    ctx.type = 'text/x-shellscript';
    ctx.set('Content-Disposition', 'attachment; filename="maas-run-scripts"');
    ctx.body = script;
  };
}
