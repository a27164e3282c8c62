/**
 * `clawauth proxy` streams: events pass through as they arrive, a client
 * that goes away closes the upstream connection (before the answer's
 * headers as well as during its body), and a stop signal lets a stream in
 * flight finish before the proxy exits 0.
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { startFakeUpstream } from "../fake_upstream.ts";
import {
  keyed,
  MESSAGES_BODY,
  oneAnthropicKey,
  routeTo,
  type RunningProxy,
  startProxy,
} from "../proxy_support.ts";

/** Reads from `reader` until `text` has arrived; fails (rather than hangs) after 20 s. */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  text: string,
  seen = "",
): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const give = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no "${text}" after 20 s; got ${seen}`)), 20_000);
  });
  try {
    while (!seen.includes(text)) {
      const { value, done } = await Promise.race([reader.read(), give]);
      if (done) break;
      seen += value;
    }
    return seen;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until the proxy refuses new connections (it is draining); false if it never does. */
async function refusesConnections(proxy: RunningProxy): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    const refused = await fetch(`${proxy.url}/anthropic/v1/models`, {
      headers: keyed(proxy.key),
    }).then(async (r) => (await r.body?.cancel(), false), () => true);
    if (refused) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

Deno.test("proxy streams: the client has the first event before the upstream sends the second", async () => {
  await using state = await tempState();
  oneAnthropicKey(state);
  const release = Promise.withResolvers<void>();
  let sentRest = false;
  await using upstream = await startFakeUpstream(() => ({
    hold: release.promise.then(() => {
      sentRest = true;
    }),
  }));
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const response = await proxy.post();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const first = await readUntil(reader, "event: message_start");
  assert.equal(sentRest, false, "the first event arrived while the upstream still held the rest");
  assert.doesNotMatch(first, /message_stop/);
  release.resolve();
  assert.match(await readUntil(reader, "event: message_stop", first), /message_stop/);
});

Deno.test("proxy streams: a client that goes away closes the upstream connection", async () => {
  await using state = await tempState();
  oneAnthropicKey(state);
  const never = new Promise<void>(() => {});
  await using upstream = await startFakeUpstream(() => ({ hold: never }));
  routeTo(state, upstream);
  await using proxy = await startProxy(state);
  const controller = new AbortController();
  const response = await fetch(`${proxy.url}/anthropic/v1/messages`, {
    method: "POST",
    headers: keyed(proxy.key),
    body: MESSAGES_BODY,
    signal: controller.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  await readUntil(reader, "event: message_start");
  controller.abort();
  await reader.cancel().catch(() => {});
  // Resolves only when the upstream's stream is cancelled: its connection closed.
  await upstream.requests[0].cancelled;
});

/**
 * An upstream on raw TCP that reads a request and never answers: `received`
 * resolves when the request's first bytes arrive, `closed` when the proxy
 * closes that connection (end of stream).
 */
function silentUpstream(): {
  url: string;
  received: Promise<void>;
  closed: Promise<void>;
  close(): void;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = Promise.withResolvers<void>();
  const closed = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(64 * 1024);
    try {
      while ((await conn.read(buffer)) !== null) received.resolve();
    } catch { /* a reset is a close too */ }
    conn.close();
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    received: received.promise,
    closed,
    close: () => listener.close(),
  };
}

Deno.test("proxy: a client that goes away before the answer's headers closes the upstream connection, and nothing is recorded against the profile", async () => {
  await using state = await tempState();
  oneAnthropicKey(state);
  const upstream = silentUpstream();
  try {
    routeTo(state, upstream);
    await using proxy = await startProxy(state);
    const controller = new AbortController();
    const pending = fetch(`${proxy.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: keyed(proxy.key),
      body: MESSAGES_BODY,
      signal: controller.signal,
    }).catch(() => undefined);
    await upstream.received;
    controller.abort();
    await pending;
    // Resolves only when the proxy has called off its upstream request.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      upstream.closed.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 20_000)),
    ]);
    clearTimeout(timer);
    assert.ok(closed, "the upstream connection stayed open 20 s after the client left");
    const status = JSON.parse((await state.run(["status", "--json"])).stdout);
    assert.equal(status.profiles[0].state, "ok", "a client's cancel is no failure of the profile");
  } finally {
    upstream.close();
  }
});

Deno.test("proxy: SIGTERM with a stream in flight stops accepting, lets the stream finish, and exits 0", async () => {
  await using state = await tempState();
  oneAnthropicKey(state);
  const release = Promise.withResolvers<void>();
  await using upstream = await startFakeUpstream(() => ({ hold: release.promise }));
  routeTo(state, upstream);
  const proxy = await startProxy(state);
  const response = await proxy.post();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const first = await readUntil(reader, "event: message_start");
  const stopped = proxy.stop("SIGTERM");
  assert.ok(
    await refusesConnections(proxy),
    "new connections are refused while the stream runs on",
  );
  release.resolve();
  const rest = await readUntil(reader, "event: message_stop", first);
  assert.match(rest, /content_block_delta[\s\S]*message_stop/);
  const { code, stderr } = await stopped;
  assert.equal(code, 0, stderr);
});

Deno.test("proxy: a second Ctrl-C while a stream drains ends the proxy at once with 130", async () => {
  await using state = await tempState();
  oneAnthropicKey(state);
  const never = Promise.withResolvers<void>();
  await using upstream = await startFakeUpstream(() => ({ hold: never.promise }));
  routeTo(state, upstream);
  const proxy = await startProxy(state);
  try {
    const response = await proxy.post();
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, "event: message_start");
    proxy.signal("SIGINT");
    assert.ok(await refusesConnections(proxy));
    const { code } = await proxy.stop("SIGINT");
    assert.equal(code, 130);
    await reader.cancel().catch(() => {});
  } finally {
    never.resolve();
  }
});
