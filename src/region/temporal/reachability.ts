// Whether the Temporal server is known to be away right now, from calls already made (no round
// trip of its own): a lifecycle start that answers before its workflow is started (services/
// lifecycle-start.ts) must not do so while Temporal is down, or the 503 that says "recorded, not
// started" becomes a 200. The gRPC retry interceptor hides failed attempts from the caller for
// seconds, so the attempts are observed where it decides to retry: the first refused connection
// after the server went away is seen within milliseconds.
import { makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';

type Interceptor = ReturnType<typeof makeGrpcRetryInterceptor>;

/** gRPC's UNAVAILABLE: the server is down, restarting or unreachable. */
const GRPC_UNAVAILABLE = 14;

/**
 * Calls whose UNAVAILABLE says nothing of the server: a visibility list reads visibility's own
 * store, which can fail (Temporal answers it UNAVAILABLE) while every other call is answered, and
 * the reconciler's listing then falls back to describes (region/running-listing.ts).
 */
const UNOBSERVED = new Set(['/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions']);

export class TemporalReachability {
  private away = false;

  /** The client's retry options, noting every attempt the server did not answer. */
  observing(options: GrpcRetryOptions): GrpcRetryOptions {
    return {
      ...options,
      retryableDecider: (attempt, status) => {
        if (status.code === GRPC_UNAVAILABLE) this.away = true;
        return options.retryableDecider(attempt, status);
      },
    };
  }

  /** The connection's retry interceptor: every attempt observed (as `observing` does) but visibility lists'. */
  retryInterceptor(options: GrpcRetryOptions): Interceptor {
    const observed = makeGrpcRetryInterceptor(this.observing(options));
    const unobserved = makeGrpcRetryInterceptor(options);
    return (call, next) => (UNOBSERVED.has(call.method_definition.path) ? unobserved : observed)(call, next);
  }

  /** A call's final failure was an outage (the gateway's own view, also without the interceptor). */
  unavailable(): void {
    this.away = true;
  }

  /** The server answered a call (even with a refusal such as "already started"): it is there. */
  answered(): void {
    this.away = false;
  }

  /** True from an unanswered attempt until the server next answers. */
  get knownUnavailable(): boolean {
    return this.away;
  }
}
