/** The remote command `login --via` hands to ssh: every word reaches the remote shell intact. */

import assert from "node:assert/strict";
import { shellWord } from "../lib/login_via.ts";

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
