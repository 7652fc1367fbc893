import { describe, expect, it } from "vitest";
import { topology } from "@videoforge/events";
import { functionArtifacts } from "../../../../../stacks/artifacts.ts";
import { artifactOf } from "./artifact-runner.ts";
import { MEDIA_HANDLERS } from "./dispatch.ts";

describe("which process runs a handler", () => {
  it("every Lambda rule's handler has a built artifact, and the ffmpeg ones are the worker image's", () => {
    for (const sub of topology.filter((s) => s.runtime === "lambda")) {
      const name = artifactOf(sub.handler);
      expect(functionArtifacts[name].kind, sub.handler).toBe(MEDIA_HANDLERS.has(sub.handler) ? "image" : "zip");
    }
  });

  it("locally, media handlers leave the server's process; the others stay in it", () => {
    const handlers = [...new Set(topology.map((s) => s.handler))].sort();
    const outOfProcess = handlers.filter((h) => MEDIA_HANDLERS.has(h));
    expect(outOfProcess).toEqual(["assembler", "chunker", "encoder", "finisher"]);
    expect(handlers.filter((h) => !MEDIA_HANDLERS.has(h))).toEqual(["chunkFailures", "recorder", "tracker"]);
  });
});
