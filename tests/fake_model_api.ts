/**
 * A fake model API on 127.0.0.1 for the real-client tests: it answers just
 * enough of Anthropic's Messages API (`POST /v1/messages`, streaming or not)
 * and OpenAI's Responses API (`GET /v1/models`, `POST /v1/responses` as
 * server-sent events, and the workspace discovery of Codex's ChatGPT mode)
 * for Claude Code, Codex CLI and pi to finish one prompt, and records every
 * request's method, path, headers and body. Each model request's
 * credential (`x-api-key`, else `Authorization: Bearer`) goes through
 * {@linkcode FakeModelApiOptions.authorize}, so a test can answer 401 to a
 * token and see whether the client comes back with another one.
 *
 * Script use, for trying a client by hand (prints the URL, logs requests):
 * `deno run -A tests/fake_model_api.ts`
 *
 * @module
 */

/** One request the fake API received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  path: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The credential it carried: `x-api-key`, else the Bearer token, else `undefined`. */
  credential?: string;
  /** The status the fake API answered with. */
  status: number;
  /** The request body as text (empty for GET and HEAD). */
  body: string;
}

/** Options of {@linkcode startFakeModelApi}. */
export interface FakeModelApiOptions {
  /**
   * Decides a model request's answer from its credential: 200 serves it, any
   * other status (e.g. 401) is answered as the provider's JSON error. May be
   * async (e.g. to change the clawauth store before answering). Default 200.
   */
  authorize?: (
    credential: string | undefined,
    request: RecordedRequest,
  ) => number | Promise<number>;
  /** The text every model answer carries; default `"pong"`. */
  reply?: string;
  /** Print each request as a JSON line on stdout (for trying a client by hand). */
  log?: boolean;
}

/** A running fake API. */
export interface FakeModelApi extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  /** Every request so far, in order of arrival. */
  requests: RecordedRequest[];
  /** The model requests (messages and responses) so far. */
  modelRequests(): RecordedRequest[];
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** The paths that run a model, as opposed to probes and model lists. */
const MODEL_PATHS = /\/(messages|responses|chat\/completions)$/;

function credentialOf(headers: Headers): string | undefined {
  const key = headers.get("x-api-key");
  if (key) return key;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get("authorization") ?? "");
  return bearer?.[1];
}

function sse(events: [string, unknown][]): Response {
  const text = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    .join("");
  return new Response(text, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/** Anthropic's Messages API answer, streamed as its SDK expects, or whole. */
function anthropicAnswer(body: Record<string, unknown>, reply: string): Response {
  const model = typeof body.model === "string" ? body.model : "claude-fake";
  const message = {
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model,
    content: [] as unknown[],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
  if (body.stream !== true) {
    return Response.json({
      ...message,
      content: [{ type: "text", text: reply }],
      stop_reason: "end_turn",
    });
  }
  return sse([
    ["message_start", { type: "message_start", message }],
    [
      "content_block_start",
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    ],
    [
      "content_block_delta",
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: reply } },
    ],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    [
      "message_delta",
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: 1 },
      },
    ],
    ["message_stop", { type: "message_stop" }],
  ]);
}

/** OpenAI's Responses API answer as server-sent events. */
function responsesAnswer(body: Record<string, unknown>, reply: string): Response {
  const model = typeof body.model === "string" ? body.model : "gpt-fake";
  const item = {
    type: "message",
    id: "msg_fake",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text: reply, annotations: [] }],
  };
  const usage = {
    input_tokens: 1,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 1,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 2,
  };
  const response = {
    id: "resp_fake",
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "in_progress",
    model,
    output: [] as unknown[],
  };
  return sse([
    ["response.created", { type: "response.created", sequence_number: 0, response }],
    [
      "response.output_item.added",
      {
        type: "response.output_item.added",
        sequence_number: 1,
        output_index: 0,
        item: { ...item, status: "in_progress", content: [] },
      },
    ],
    [
      "response.output_text.delta",
      {
        type: "response.output_text.delta",
        sequence_number: 2,
        item_id: item.id,
        output_index: 0,
        content_index: 0,
        delta: reply,
      },
    ],
    [
      "response.output_item.done",
      { type: "response.output_item.done", sequence_number: 3, output_index: 0, item },
    ],
    [
      "response.completed",
      {
        type: "response.completed",
        sequence_number: 4,
        response: { ...response, status: "completed", output: [item], usage },
      },
    ],
  ]);
}

function errorAnswer(path: string, status: number): Response {
  const message = status === 401 ? "invalid credential (fake API)" : `status ${status} (fake API)`;
  // Each API's own error shape, so each client reads it as its provider would say it.
  const body = path.includes("messages")
    ? {
      type: "error",
      error: { type: status === 401 ? "authentication_error" : "api_error", message },
    }
    : {
      error: {
        message,
        type: status === 401 ? "invalid_request_error" : "server_error",
        code: status === 401 ? "invalid_api_key" : null,
      },
    };
  return Response.json(body, { status });
}

/** Starts the fake API on an ephemeral port of 127.0.0.1. */
export function startFakeModelApi(opts: FakeModelApiOptions = {}): Promise<FakeModelApi> {
  const requests: RecordedRequest[] = [];
  const reply = opts.reply ?? "pong";
  const { promise: listening, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, async (request) => {
    const url = new URL(request.url);
    const path = `${url.pathname}${url.search}`;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => headers[name] = value);
    const recorded: RecordedRequest = {
      method: request.method,
      path,
      headers,
      credential: credentialOf(request.headers),
      status: 200,
      body: request.method === "GET" || request.method === "HEAD" ? "" : await request.text(),
    };
    requests.push(recorded);
    const text = recorded.body;
    if (opts.log) console.log(JSON.stringify(recorded));
    if (MODEL_PATHS.test(url.pathname)) {
      recorded.status = await (opts.authorize?.(recorded.credential, recorded) ?? 200);
      if (recorded.status !== 200) return errorAnswer(url.pathname, recorded.status);
      let body: Record<string, unknown> = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch { /* a body we cannot read: answer anyway */ }
      return url.pathname.includes("messages")
        ? anthropicAnswer(body, reply)
        : responsesAnswer(body, reply);
    }
    if (url.pathname.endsWith("/models")) {
      // Both list shapes: OpenAI's {data} and Codex's own {models}.
      return Response.json({
        object: "list",
        data: [{ id: "fake-model", object: "model", created: 0, owned_by: "fake" }],
        models: [],
      });
    }
    if (url.pathname.endsWith("/count_tokens")) return Response.json({ input_tokens: 1 });
    if (url.pathname.endsWith("/wham/accounts/check")) {
      // Codex's ChatGPT mode discovers the workspace before a turn: one personal account.
      const id = request.headers.get("chatgpt-account-id") ?? "acct-fake";
      return Response.json({
        accounts: [{
          id,
          workspace_backend_origin: "NO_CONSTRAINT",
          account_routing_override: "NO_CONSTRAINT",
          structure: "personal",
        }],
        account_ordering: [id],
        default_account_id: id,
      });
    }
    // Probes (Claude Code's HEAD /) and anything else: an empty success.
    return new Response(request.method === "HEAD" ? null : "{}", {
      headers: { "content-type": "application/json" },
    });
  });
  return listening.then((port) => {
    let closed: Promise<void> | undefined;
    const close = () => closed ??= server.shutdown();
    return {
      url: `http://127.0.0.1:${port}`,
      requests,
      modelRequests: () =>
        requests.filter((r) => r.method === "POST" && MODEL_PATHS.test(r.path.split("?")[0])),
      close,
      [Symbol.asyncDispose]: close,
    };
  });
}

if (import.meta.main) {
  const api = await startFakeModelApi({ log: true });
  console.log(api.url);
}
