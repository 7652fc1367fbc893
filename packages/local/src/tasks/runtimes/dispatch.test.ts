import { describe, expect, it } from "vitest";
import { topology } from "@videoforge/events";
import { functionArtifacts } from "../../../../../stacks/artifacts.ts";
import { artifactOf } from "./artifact-runner.ts";
import { MEDIA_HANDLERS } from "./dispatch.ts";

describe("which process runs a handler", () => {
  it("every Lambda rule's handler has a built artifact, and the ffmpeg ones are the worker image's", () => {
    // stated here, not derived: MEDIA_HANDLERS and the artifacts both come from events/src/handlers.ts
    const kinds: Record<string, string> = {};
    for (const sub of topology.filter((s) => s.runtime !== "task")) {
      kinds[sub.handler] = functionArtifacts[artifactOf(sub.handler)].kind;
    }
    expect(kinds).toEqual({
      chunker: "image",
      encoder: "image",
      assembler: "image",
      finisher: "image",
      tracker: "zip",
      chunkFailures: "zip",
      recorder: "zip",
      deleter: "zip",
      webhookSender: "zip",
      importer: "zip",
    });
  });

  it("locally, media handlers leave the server's process; the others stay in it", () => {
    const handlers = [...new Set(topology.map((s) => s.handler))].sort();
    const outOfProcess = handlers.filter((h) => MEDIA_HANDLERS.has(h));
    expect(outOfProcess).toEqual(["assembler", "chunker", "encoder", "finisher"]);
    expect(handlers.filter((h) => !MEDIA_HANDLERS.has(h))).toEqual([
      "chunkFailures",
      "deleter",
      "importer",
      "recorder",
      "tracker",
      "webhookSender",
    ]);
  });
});
