// The API-only stack most benches measure: started, handed to the bench, stopped whatever happens.
import { startStack, type Stack } from '../../test/helpers/stack';

export async function withApiStack<T>(run: (stack: Stack) => Promise<T>, env?: NodeJS.ProcessEnv): Promise<T> {
  const stack = await startStack({ roles: ['api'], env });
  try {
    return await run(stack);
  } finally {
    await stack.stop();
  }
}
