import type { HandlerName } from "@videoforge/events";
import type { Handler } from "./handlers/on.ts";
import { chunker } from "./handlers/chunker.ts";
import { encoder } from "./handlers/encoder.ts";
import { tracker } from "./handlers/tracker.ts";
import { chunkFailures } from "./handlers/chunk-failures.ts";
import { assembler } from "./handlers/assembler.ts";
import { finisher } from "./handlers/finisher.ts";
import { recorder } from "./handlers/recorder.ts";

/** Handler code by the name the topology uses; the local bus, the task entry and Lambda entries look here. */
export const handlers: Record<HandlerName, Handler> = { chunker, encoder, tracker, chunkFailures, assembler, finisher, recorder };
