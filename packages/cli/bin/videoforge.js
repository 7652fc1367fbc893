#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx registers a loader, so no build step stands between
// `npm install` and a working command.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
