#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx registers a loader, so no build step stands between
// `npm install` and a working command.
import { register } from "tsx/esm/api";

// Node 20 works; the SDK's notice that releases after January 2027 need Node 22 is not for every run
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
register();
await import("../src/main.ts");
