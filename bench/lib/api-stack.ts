// The API-only stack most benches measure: started, handed to the bench, stopped whatever happens.
import { startStack, type Stack } from '../../test/helpers/stack';

/** `apiNodeArgs`: options for the API's node process (e.g. cpu-profile.ts's --cpu-prof). */
export async function withApiStack<T>(run: (stack: Stack) => Promise<T>, apiNodeArgs?: string[]): Promise<T> {
  const stack = await startStack({ roles: ['api'], nodeArgs: { api: apiNodeArgs } });
  try {
    return await run(stack);
  } finally {
    await stack.stop();
  }
}
