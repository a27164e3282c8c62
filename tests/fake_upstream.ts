/**
 * Fake provider APIs on 127.0.0.1 for the proxy tests: Anthropic's Messages
 * API (`…/messages`, SSE when the body says `stream: true`), OpenAI's
 * Responses API and the Codex backend (`…/responses`, SSE). It records each
 * request's path, headers and credential, and answers per credential as a
 * test says: normally (with extra headers, e.g. quota), with an error status
 * in the API's shape (429 with `retry-after`, 529, 401), or as a stream that
 * sends its first event, waits for the test to release it, then the rest.
 *
 * @module
 */

/** One request the fake received. */
export interface UpstreamRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** `x-api-key`, else the Bearer token. */
  credential?: string;
  body: string;
  /** Resolves when the answer's stream was cancelled (the connection closed early). */
  cancelled: Promise<void>;
}

/** How the fake answers one request. */
export interface Behaviour {
  /** 200 (default) answers normally; anything else is an error in the API's shape. */
  status?: number;
  /** Extra response headers (`retry-after`, rate-limit and quota headers). */
  headers?: Record<string, string>;
  /** Send no headers until this resolves (a stalled upstream). */
  stall?: Promise<void>;
  /** Stream only the first event, then wait for this before the rest. */
  hold?: Promise<void>;
  /** Called once the first event was handed to the connection. */
  onFirstEvent?: () => void;
}

/** Decides the answer to a request from its credential. */
export type Behave = (credential: string | undefined, request: UpstreamRequest) => Behaviour;

/** A running fake upstream. */
export interface FakeUpstream extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Every request so far, in order of arrival. */
  requests: UpstreamRequest[];
  /** Changes how later requests are answered. */
  behave(fn: Behave): void;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

function event(name: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The events of one streamed answer, Anthropic's or the Responses API's. */
function events(anthropic: boolean): Uint8Array[] {
  if (anthropic) {
    return [
      event("message_start", {
        type: "message_start",
        message: { id: "msg_fake", type: "message", role: "assistant", content: [] },
      }),
      event("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "pong" },
      }),
      event("message_stop", { type: "message_stop" }),
    ];
  }
  return [
    event("response.created", { type: "response.created", response: { id: "resp_fake" } }),
    event("response.output_text.delta", { type: "response.output_text.delta", delta: "pong" }),
    event("response.completed", { type: "response.completed", response: { id: "resp_fake" } }),
  ];
}

function errorBody(anthropic: boolean, status: number): unknown {
  const message = `status ${status} (fake upstream)`;
  const type = status === 429
    ? "rate_limit_error"
    : status === 529
    ? "overloaded_error"
    : status === 401
    ? "authentication_error"
    : "api_error";
  return anthropic
    ? { type: "error", error: { type, message } }
    : { error: { message, type, code: null } };
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export async function startFakeUpstream(initial: Behave = () => ({})): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  let behave = initial;
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, async (request) => {
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => headers[name] = value);
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    const cancelled = Promise.withResolvers<void>();
    const recorded: UpstreamRequest = {
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers,
      credential: request.headers.get("x-api-key") ?? bearer,
      body: await request.text(),
      cancelled: cancelled.promise,
    };
    requests.push(recorded);
    const anthropic = url.pathname.endsWith("/messages");
    const answer = behave(recorded.credential, recorded);
    await answer.stall;
    const status = answer.status ?? 200;
    if (status !== 200) {
      return Response.json(errorBody(anthropic, status), { status, headers: answer.headers });
    }
    let stream = false;
    try {
      stream = JSON.parse(recorded.body).stream === true;
    } catch { /* not JSON: answer whole */ }
    if (anthropic && !stream) {
      return Response.json({
        id: "msg_fake",
        type: "message",
        role: "assistant",
        content: [{ type: "text", text: "pong" }],
      }, { headers: answer.headers });
    }
    const [first, ...rest] = events(anthropic);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(first);
        answer.onFirstEvent?.();
        await answer.hold;
        try {
          for (const chunk of rest) controller.enqueue(chunk);
          controller.close();
        } catch { /* cancelled meanwhile */ }
      },
      cancel() {
        cancelled.resolve();
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", ...answer.headers },
    });
  });
  const port = await promise;
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.shutdown();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behave(fn) {
      behave = fn;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
