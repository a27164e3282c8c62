/**
 * What a login shows while it waits: the URL, a QR code of it when the
 * terminal can hold one, one line per other way to finish, and on a
 * terminal a spinner with the elapsed and the remaining time.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { fitQr } from "./qr.ts";

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
/** Lines around the QR code that must stay on screen with it (heading, URL, ways). */
const QR_MARGIN_ROWS = 12;

/** A QR code of `text` for this terminal, or nothing when it would not fit. */
export function qrLines(ctx: Context, text: string): string[] {
  const size = ctx.stderrIsTTY ? ctx.terminalSize() : undefined;
  if (!size) return [];
  const space = { columns: size.columns - 2, rows: size.rows - QR_MARGIN_ROWS };
  return fitQr(text, space).map((line) => `  ${line}`);
}

/** One other way to finish the login: a short name and what to do. */
export interface Alternative {
  name: string;
  text: string;
}

/** Formats the alternatives as aligned lines under a heading. */
export function alternativesText(alternatives: Alternative[]): string {
  if (alternatives.length === 0) return "";
  const pad = Math.max(...alternatives.map((a) => a.name.length));
  const lines = alternatives.map((a) =>
    `  ${a.name.padEnd(pad)}  ${a.text.replaceAll("\n", `\n  ${" ".repeat(pad)}  `)}`
  );
  return `Other ways to finish:\n${lines.join("\n")}\n`;
}

/** m:ss */
function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The live status line of a wait. */
export interface Spinner {
  /** Adds a short note to the line (e.g. how much has been pasted). */
  note(text: string): void;
  /** Prints a message above the line (the line is drawn again under it). */
  say(text: string): void;
  /** Removes the line. */
  stop(): void;
}

/**
 * Draws `⠋ label · 0:12 elapsed · 4:48 left` on stderr every 100 ms while
 * stderr is a terminal (not `TERM=dumb`); elsewhere does nothing (the plain
 * text said it all).
 */
export function startSpinner(ctx: Context, label: string, deadline: number): Spinner {
  if (!ctx.stderrIsTTY || ctx.env("TERM") === "dumb") {
    return { note() {}, say: (text) => ctx.err(text), stop() {} };
  }
  const started = ctx.now();
  let frame = 0;
  let note = "";
  const draw = () => {
    const now = ctx.now();
    const glyph = FRAMES[frame++ % FRAMES.length];
    ctx.err(
      `\r\x1b[2K${glyph} ${label} · ${clock(now - started)} elapsed · ${
        clock(deadline - now)
      } left${note}`,
    );
  };
  draw();
  const timer = setInterval(draw, 100);
  // The spinner never keeps the process alive by itself.
  Deno.unrefTimer(timer);
  return {
    note(text) {
      note = text ? ` · ${text}` : "";
      draw();
    },
    say(text) {
      note = "";
      ctx.err(`\r\x1b[2K${text}`);
      draw();
    },
    stop() {
      clearInterval(timer);
      ctx.err("\r\x1b[2K");
    },
  };
}
