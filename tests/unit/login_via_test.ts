/** The remote command `login --via` hands to ssh: every word reaches the remote shell intact. */

import assert from "node:assert/strict";
import { parseViaLine, shellWord, VIA_PREFIX } from "../../lib/login/via.ts";

Deno.test("shellWord: plain words stay readable, anything else is single-quoted, ~/ still expands", () => {
  const cases: [string, string][] = [
    ["clawauth", "clawauth"],
    ["--provider", "--provider"],
    ["/opt/clawauth/bin/clawauth", "/opt/clawauth/bin/clawauth"],
    ["me@example.com", "me@example.com"],
    ["my bin", "'my bin'"],
    ["$(touch /tmp/x)", "'$(touch /tmp/x)'"],
    ["a;b|c&d", "'a;b|c&d'"],
    ["it's", "'it'\\''s'"],
    ["`id`", "'`id`'"],
    ["", "''"],
    ["~/bin/clawauth", "~/bin/clawauth"],
    ["~/my bin/clawauth", "~/'my bin/clawauth'"],
    ["~root/x", "'~root/x'"],
  ];
  for (const [word, quoted] of cases) assert.equal(shellWord(word), quoted, word);
});

Deno.test("shellWord: what the shell reads back is the word itself", async () => {
  const words = ["plain", "two words", "$HOME", "it's", "a\nb", "*", "-n", "\\"];
  const script = `for w in ${words.map(shellWord).join(" ")}; do printf '%s\\0' "$w"; done`;
  const out = await new Deno.Command("sh", { args: ["-c", script] }).output();
  assert.deepEqual(new TextDecoder().decode(out.stdout).split("\0").slice(0, -1), words);
});

Deno.test("the --forwarded login's machine line: only a well-formed one is read, whatever the human text says", () => {
  const url = "https://auth.example/authorize?x=1";
  assert.deepEqual(
    parseViaLine(`${VIA_PREFIX}${JSON.stringify({ url, listening: true })}`),
    { url, listening: true },
  );
  assert.deepEqual(
    parseViaLine(`${VIA_PREFIX}${JSON.stringify({ url, listening: false })}`),
    { url, listening: false },
  );
  for (
    const line of [
      `  ${url}`,
      "Port 1455 on 127.0.0.1 is in use",
      `${VIA_PREFIX}{`,
      `${VIA_PREFIX}${JSON.stringify({ url: "file:///etc/passwd", listening: true })}`,
      `${VIA_PREFIX}${JSON.stringify({ url })}`,
      `x${VIA_PREFIX}${JSON.stringify({ url, listening: true })}`,
    ]
  ) {
    assert.equal(parseViaLine(line), undefined, line);
  }
});
